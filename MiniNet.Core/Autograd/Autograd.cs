namespace MiniNet;

/// <summary>Graph recording: the switch that <c>using (Autograd.NoGrad())</c> turns off, and <see cref="Record"/>, which ops call.</summary>
public static class Autograd
{
    [ThreadStatic] private static bool t_disabled;
    [ThreadStatic] private static bool t_detectAnomaly;

    /// <summary>True while <see cref="DetectAnomaly"/> is in force on this thread.</summary>
    public static bool AnomalyDetection => t_detectAnomaly;

    /// <summary>Until the returned scope is disposed, every op checks its output, and every backward step the
    /// gradients it produced, for NaN or infinity, and throws <see cref="ArithmeticException"/> naming the first op
    /// that produced one (like <c>torch.autograd.detect_anomaly</c>). Costs one pass over each tensor.</summary>
    public static IDisposable DetectAnomaly()
    {
        bool previous = t_detectAnomaly;
        t_detectAnomaly = true;
        return new Restore(() => t_detectAnomaly = previous);
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    /// <summary>Throws when anomaly detection is on and <paramref name="t"/> holds a NaN or an infinity.</summary>
    internal static void CheckFinite(Tensor t, string op, string what)
    {
        if (t_detectAnomaly) CheckFinite(t.Values, t.Shape, op, "produced", what);
    }

    /// <summary>Throws when anomaly detection is on and one of an op's inputs holds a NaN or an infinity: for fused ops,
    /// which compute several steps at once, so that a value an unfused chain would have caught in an intermediate
    /// result (an infinity a sigmoid would squash, say) is caught at the op's entry.</summary>
    internal static void CheckFiniteInput(ReadOnlySpan<float> data, IReadOnlyList<int> shape, string op, string what) =>
        CheckFinite(data, shape, op, "was given", what);

    private static void CheckFinite(ReadOnlySpan<float> data, IReadOnlyList<int> shape, string op, string verb, string what)
    {
        if (!t_detectAnomaly || System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(data)) return;
        int i = 0;
        while (i < data.Length && float.IsFinite(data[i])) i++;
        throw new ArithmeticException(
            $"Anomaly detection: '{op}' {verb} {data[i].ToString(System.Globalization.CultureInfo.InvariantCulture)} in {what} of shape {Shapes.Format(shape)} (element {i}).");
    }

    /// <summary>True when ops on this thread record a graph.</summary>
    public static bool Enabled
    {
        get => !t_disabled;
        internal set => t_disabled = !value;
    }

    /// <summary>Stops recording on this thread until the returned scope is disposed.</summary>
    /// <example><code>using (Autograd.NoGrad()) { var logits = model.Forward(x); }</code></example>
    public static NoGradScope NoGrad()
    {
        var scope = new NoGradScope(Enabled);
        Enabled = false;
        return scope;
    }

    /// <summary>The buffer an op's backward function writes <paramref name="input"/>'s gradient into: the one way, for
    /// MiniNet's ops and yours, to send a gradient to an input (see <see cref="GradientTarget"/> and docs/extending.md).</summary>
    /// <remarks>Call it only for inputs whose <see cref="Tensor.RequiresGrad"/> is true, from the backward function.</remarks>
    /// <exception cref="InvalidOperationException">Called outside a backward pass, or for an input the pass does not reach.</exception>
    public static GradientTarget GradTarget(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Tensor gradient = input.Gradient.Acquire(input, out bool accumulate);
        return new GradientTarget(gradient, accumulate);
    }

    /// <summary>Attaches an op to <paramref name="output"/> when recording is on and any input requires grad.</summary>
    /// <param name="output">The op's freshly created result.</param>
    /// <param name="name">The op's name, shown in errors and <see cref="Tensor.ToString"/>.</param>
    /// <param name="inputs">The tensors the op read.</param>
    /// <param name="backward">Receives dL/d(output) and writes each input's gradient, for the inputs whose
    /// <see cref="Tensor.RequiresGrad"/> is true, into the buffer <see cref="GradTarget"/> gives for that input.</param>
    /// <param name="release">Called once when the graph is freed after a backward pass (e.g. to return pooled memory
    /// the backward captured); not called when no node is recorded, or when the graph is never freed.</param>
    /// <returns><paramref name="output"/>, for chaining.</returns>
    public static Tensor Record(Tensor output, string name, Tensor[] inputs, Action<Tensor> backward, Action? release = null)
    {
        CheckFinite(output, name, "its output");
        if (!Enabled) { release?.Invoke(); return output; }
        foreach (Tensor input in inputs)
        {
            if (input.RequiresGrad)
            {
                output.Node = new Node(name, inputs, backward, release);
                output.MarkRequiresGrad();
                return output;
            }
        }
        release?.Invoke();
        return output;
    }
}
