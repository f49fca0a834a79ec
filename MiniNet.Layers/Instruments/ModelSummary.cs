using System.Globalization;
using System.Text;

namespace MiniNet.Layers;

/// <summary>One module's line in a <see cref="ModelSummary"/>.</summary>
/// <param name="Name">Its dotted name in the model ("" for the model itself).</param>
/// <param name="Depth">How deep it is in the tree (0 for the model).</param>
/// <param name="Layer">Its one-line description, e.g. <c>Dense(784, 100, bias: False)</c>.</param>
/// <param name="OutputShape">The shape of its output in the summary's forward pass, or null when it did not run
/// there through <see cref="Module.Call"/> (a module a custom block calls by <c>Forward</c> directly).</param>
/// <param name="Parameters">Parameter values it and its descendants hold.</param>
/// <param name="Trainable">Of those, the ones that require grad.</param>
public sealed record ModuleSummary(string Name, int Depth, string Layer, IReadOnlyList<int>? OutputShape, long Parameters, long Trainable);

/// <summary>A model at a glance, as torchinfo prints it: every module with its output shape for one input batch and its
/// parameter counts, the totals, and the memory of parameters, buffers and one batch's activations
/// (<see cref="Module.Summary"/>).</summary>
public sealed class ModelSummary
{
    internal ModelSummary(IReadOnlyList<int> inputShape, IReadOnlyList<ModuleSummary> modules, long parameters, long trainable,
        long bufferValues, long activationValues)
    {
        (InputShape, Modules, Parameters, Trainable, BufferValues, ActivationValues) =
            (inputShape, modules, parameters, trainable, bufferValues, activationValues);
    }

    /// <summary>The input shape the forward pass ran on (its first dimension is the batch).</summary>
    public IReadOnlyList<int> InputShape { get; }

    /// <summary>Every module, depth first, the model first.</summary>
    public IReadOnlyList<ModuleSummary> Modules { get; }

    /// <summary>Parameter values in the model (a parameter shared by two modules counted once).</summary>
    public long Parameters { get; }

    /// <summary>Of those, the ones that require grad.</summary>
    public long Trainable { get; }

    /// <summary>Values in buffers (running statistics, counters).</summary>
    public long BufferValues { get; }

    /// <summary>Values in the outputs of the modules without children for one batch: the activations a forward pass
    /// keeps for backward (their gradients take about as much again).</summary>
    public long ActivationValues { get; }

    /// <summary>Megabytes (2²⁰ bytes) of float32 parameters.</summary>
    public double ParameterMiB => Parameters * 4.0 / (1 << 20);

    /// <summary>Megabytes of float32 buffers.</summary>
    public double BufferMiB => BufferValues * 4.0 / (1 << 20);

    /// <summary>Megabytes of one batch's activations.</summary>
    public double ActivationMiB => ActivationValues * 4.0 / (1 << 20);

    /// <summary>Megabytes of the input batch.</summary>
    public double InputMiB => Shapes.Numel([.. InputShape]) * 4.0 / (1 << 20);

    /// <summary>The table: one line per module, indented by depth, then the totals.</summary>
    public override string ToString()
    {
        static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
        string[] layers = Modules.Select(m => new string(' ', 2 * m.Depth) + (m.Name.Length == 0 ? "" : m.Name + ": ") + m.Layer).ToArray();
        string[] shapes = Modules.Select(m => m.OutputShape is null ? "–" : Shapes.Format(m.OutputShape)).ToArray();
        int w1 = Math.Max(5, layers.Max(l => l.Length)), w2 = Math.Max(12, shapes.Max(s => s.Length));
        int w3 = Math.Max(7, Modules.Max(m => Count(m.Parameters).Length)), w4 = Math.Max(9, Modules.Max(m => Count(m.Trainable).Length));
        var sb = new StringBuilder();
        string rule = new('─', w1 + w2 + w3 + w4 + 6);
        sb.AppendLine(rule);
        sb.Append("Layer".PadRight(w1)).Append("  ").Append("Output shape".PadRight(w2)).Append("  ")
            .Append("Param #".PadLeft(w3)).Append("  ").AppendLine("Trainable".PadLeft(w4));
        sb.AppendLine(rule);
        for (int i = 0; i < Modules.Count; i++)
            sb.Append(layers[i].PadRight(w1)).Append("  ").Append(shapes[i].PadRight(w2)).Append("  ")
                .Append(Count(Modules[i].Parameters).PadLeft(w3)).Append("  ").AppendLine(Count(Modules[i].Trainable).PadLeft(w4));
        sb.AppendLine(rule);
        sb.AppendLine(CultureInfo.InvariantCulture, $"Parameters: {Count(Parameters)} ({Count(Trainable)} trainable, {Count(Parameters - Trainable)} not)");
        sb.AppendLine(CultureInfo.InvariantCulture, $"Buffers: {Count(BufferValues)} values");
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"Memory: parameters {ParameterMiB:F2} MiB, buffers {BufferMiB:F2} MiB; for input {Shapes.Format(InputShape)}: input {InputMiB:F2} MiB, activations {ActivationMiB:F2} MiB");
        sb.Append(rule);
        return sb.ToString();
    }

    /// <summary>Builds the summary of <paramref name="model"/> for one input of <paramref name="inputShape"/>.</summary>
    internal static ModelSummary Of(Module model, int[] inputShape)
    {
        var modules = model.NamedModules().ToList();
        var outputs = new Dictionary<Module, int[]>(ReferenceEqualityComparer.Instance);
        var hooks = modules.Select(m => m.Module.RegisterForwardHook((module, _, y) => outputs[module] = [.. y.Shape])).ToList();
        // The forward pass must leave the model as it was: evaluation mode (no running statistic or num_batches_tracked
        // moves, dropout off), no graph, every buffer restored afterwards all the same (a custom layer may keep state).
        bool wasTraining = model.Training;
        var saved = model.NamedBuffers().Select(b => (b.Buffer, Copy: b.Buffer.Clone())).ToList();
        try
        {
            model.Eval();
            using var scope = TensorScope.Begin();
            using (Autograd.NoGrad()) model.Call(Tensor.Zeros(inputShape));
        }
        finally
        {
            foreach (IDisposable hook in hooks) hook.Dispose();
            foreach (var (buffer, copy) in saved) buffer.CopyFrom(copy);
            model.Train(wasTraining);
        }

        var rows = new List<ModuleSummary>();
        foreach (var (name, module) in modules)
        {
            var own = module.Parameters().Distinct(ReferenceEqualityComparer.Instance).Cast<Parameter>().ToList();
            rows.Add(new ModuleSummary(name, name.Length == 0 ? 0 : name.Count(c => c == '.') + 1, DescribeOf(module),
                outputs.TryGetValue(module, out int[]? shape) ? shape : null, own.Sum(p => (long)p.Numel), own.Where(p => p.RequiresGrad).Sum(p => (long)p.Numel)));
        }
        var all = model.Parameters().Distinct(ReferenceEqualityComparer.Instance).Cast<Parameter>().ToList();
        long activations = modules.Where(m => !m.Module.Children().Any() && outputs.ContainsKey(m.Module))
            .Sum(m => (long)Shapes.Numel(outputs[m.Module]));
        return new ModelSummary([.. inputShape], rows, all.Sum(p => (long)p.Numel), all.Where(p => p.RequiresGrad).Sum(p => (long)p.Numel),
            model.Buffers().Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>().Sum(b => (long)b.Numel), activations);
    }

    /// <summary>A module's one-line description: the first line of its ToString (containers print their children below).</summary>
    private static string DescribeOf(Module module)
    {
        string text = module.ToString();
        int end = text.IndexOf('\n');
        string first = end < 0 ? text : text[..end];
        return first.EndsWith('(') && end >= 0 ? first[..^1] : first;
    }
}
