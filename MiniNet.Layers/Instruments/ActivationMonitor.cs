namespace MiniNet.Layers;

/// <summary>Which side of a module an <see cref="ActivationMonitor"/> watches.</summary>
public enum ActivationSide
{
    /// <summary>The tensor the module receives.</summary>
    Input,

    /// <summary>The tensor the module returns.</summary>
    Output,
}

/// <summary>One percentile of one watched tensor at one training step.</summary>
public sealed record ActivationRecord(int Step, string Name, double Percentile, double Value);

/// <summary>Records chosen percentiles of chosen modules' inputs or outputs every k training steps, through forward
/// hooks (so the modules must be run by <see cref="Module.Call"/>, as <see cref="Sequential"/> does).</summary>
/// <remarks>Call <see cref="Step"/> at the start of every training step; on steps 1, k, 2k, … each watched module's
/// next forward pass in training mode is summarised. Percentiles interpolate linearly between order statistics
/// (NumPy's default). Rows can be written to CSV as they come (<see cref="Recorded"/>) or read afterwards.</remarks>
public sealed class ActivationMonitor : IDisposable
{
    private readonly double[] _percentiles;
    private readonly List<IDisposable> _hooks = [];
    private readonly List<ActivationRecord> _records = [];
    private readonly HashSet<string> _done = [];
    private int _step;

    /// <summary>Records <paramref name="percentiles"/> (each in [0, 100]) every <paramref name="every"/> steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">every &lt; 1, or a percentile outside [0, 100].</exception>
    public ActivationMonitor(int every, params double[] percentiles)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(every);
        ArgumentNullException.ThrowIfNull(percentiles);
        if (percentiles.Length == 0 || percentiles.Any(p => !(p >= 0 && p <= 100)))
            throw new ArgumentOutOfRangeException(nameof(percentiles), "percentiles must be values in [0, 100].");
        Every = every;
        _percentiles = (double[])percentiles.Clone();
    }

    /// <summary>Steps between recordings.</summary>
    public int Every { get; }

    /// <summary>Everything recorded so far, in order.</summary>
    public IReadOnlyList<ActivationRecord> Records => _records;

    /// <summary>Called with each new record (e.g. to append it to a CSV file).</summary>
    public event Action<ActivationRecord>? Recorded;

    /// <summary>Watches <paramref name="module"/>'s input or output, all of it or one unit (a column of an (N, C) tensor).</summary>
    public void Watch(string name, Module module, ActivationSide side = ActivationSide.Input, int? unit = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(module);
        _hooks.Add(module.RegisterForwardHook((m, input, output) =>
        {
            if (!m.Training || _step == 0 || (_step != 1 && _step % Every != 0) || !_done.Add(name)) return;
            Tensor watched = side == ActivationSide.Input ? input : output;
            double[] values = Values(watched, unit, name);
            Array.Sort(values);
            foreach (double p in _percentiles)
            {
                var record = new ActivationRecord(_step, name, p, Percentile(values, p));
                _records.Add(record);
                Recorded?.Invoke(record);
            }
        }));
    }

    /// <summary>Marks the start of a training step.</summary>
    public void Step()
    {
        _step++;
        _done.Clear();
    }

    /// <summary>Removes the hooks.</summary>
    public void Dispose()
    {
        foreach (IDisposable hook in _hooks) hook.Dispose();
        _hooks.Clear();
    }

    private static double[] Values(Tensor t, int? unit, string name)
    {
        ReadOnlySpan<float> data = t.Data;
        if (unit is not { } u) return Array.ConvertAll(data.ToArray(), v => (double)v);
        if (t.Rank != 2 || (uint)u >= (uint)t.Shape[1])
            throw new ArgumentException($"ActivationMonitor '{name}': unit {u} needs an (N, C) tensor with C > {u}, got {Shapes.Format(t.Shape)}.");
        int n = t.Shape[0], c = t.Shape[1];
        var column = new double[n];
        for (int i = 0; i < n; i++) column[i] = data[i * c + u];
        return column;
    }

    /// <summary>Linear interpolation between the order statistics of sorted <paramref name="values"/>.</summary>
    internal static double Percentile(double[] values, double p)
    {
        if (values.Length == 0) return double.NaN;
        double position = p / 100 * (values.Length - 1);
        int low = (int)Math.Floor(position), high = Math.Min(low + 1, values.Length - 1);
        return values[low] + (values[high] - values[low]) * (position - low);
    }
}
