namespace MiniNet.Layers;

/// <summary>The fusions a chain of modules may use (<see cref="Fusion.Forward(Tensor, FusionKinds, ReadOnlySpan{Module})"/>).</summary>
[Flags]
public enum FusionKinds
{
    /// <summary>Every module runs on its own.</summary>
    None = 0,

    /// <summary>When no graph is recorded (under <see cref="Autograd.NoGrad"/>): a <see cref="Dense"/> on (N, in) input or a
    /// <see cref="Conv2d"/>, with the evaluation-mode <see cref="BatchNorm1d"/> or <see cref="BatchNorm2d"/> after it that
    /// uses its running statistics and/or a <see cref="ReLU"/> or <see cref="Sigmoid"/> (or a layer with a bias on its
    /// own), as one <see cref="Ops.LinearAffine(Tensor, Tensor, Tensor?, ReadOnlySpan{float}, ReadOnlySpan{float}, FusedActivation)"/>
    /// or <see cref="Ops.Conv2dAffine(Tensor, Tensor, Tensor?, ReadOnlySpan{float}, ReadOnlySpan{float}, FusedActivation, int, int)"/>:
    /// the bias, normalisation and activation are applied to the product while it is in cache. Equal to the unfused
    /// chain up to float rounding.</summary>
    Inference = 1,

    /// <summary>In training as in evaluation: a <see cref="BatchNorm1d"/> or <see cref="BatchNorm2d"/> followed by a
    /// <see cref="ReLU"/> as one <see cref="Ops.BatchNormRelu"/> (no intermediate tensor, one pass fewer each way),
    /// bitwise equal to the two modules: outputs, gradients and running statistics.</summary>
    BatchNormRelu = 2,

    /// <summary>Both.</summary>
    All = Inference | BatchNormRelu,
}

/// <summary>The fusion planner: the one place that decides which runs of modules compute as one fused op, for
/// <see cref="Sequential"/>, for <see cref="Sequential.Freeze"/> and for any container that asks it.</summary>
/// <remarks>
/// <para>A custom block gets the same fusion as a Sequential by running its children through
/// <see cref="Forward(Tensor, ReadOnlySpan{Module})"/>: <c>Fusion.Forward(x, _conv, _norm, _relu)</c>.</para>
/// <para>Fusion stands aside, for the run it would take, where a module has forward hooks (so hooks see each module's
/// own input and output) and under anomaly detection (so each op is checked on its own). Layers expose only what they
/// are: the planner reads a BatchNorm's public state (<see cref="BatchNorm.UsesBatchStatistics"/>, the running
/// statistics, γ, β, ε) to fold it.</para>
/// </remarks>
public static class Fusion
{
    /// <summary>Runs <paramref name="chain"/> in order, y = mₖ(…m₁(x)), with every fusion (<see cref="FusionKinds.All"/>).</summary>
    public static Tensor Forward(Tensor x, params ReadOnlySpan<Module> chain) => Forward(x, FusionKinds.All, chain);

    /// <summary>Runs <paramref name="chain"/> in order, y = mₖ(…m₁(x)), fusing the runs that <paramref name="kinds"/>
    /// allows; each module outside a fused run is run by <see cref="Module.Call"/> (its hooks run).</summary>
    /// <exception cref="ArgumentNullException">x or a module is null.</exception>
    public static Tensor Forward(Tensor x, FusionKinds kinds, params ReadOnlySpan<Module> chain)
    {
        ArgumentNullException.ThrowIfNull(x);
        for (int i = 0; i < chain.Length;)
        {
            x = Step(chain, i, x, kinds, out int consumed);
            i += consumed;
        }
        return x;
    }

    /// <summary>Runs the run that starts at <paramref name="i"/>: a fused run when one starts there, else chain[i] alone.</summary>
    internal static Tensor Step(ReadOnlySpan<Module> chain, int i, Tensor x, FusionKinds kinds, out int consumed)
    {
        Module module = chain[i] ?? throw new ArgumentNullException(nameof(chain), $"Fusion: module {i} of the chain is null.");
        if ((kinds & FusionKinds.Inference) != 0 && !Autograd.Enabled && !Autograd.AnomalyDetection && InferenceRun(chain, i, x) is { } run)
        {
            consumed = run.Length;
            return run.Apply(x);
        }
        if ((kinds & FusionKinds.BatchNormRelu) != 0 && !Autograd.AnomalyDetection && IsBatchNormRelu(chain, i))
        {
            consumed = 2;
            return ((BatchNorm)module).Normalize(x, Ops.BatchNormRelu);
        }
        consumed = 1;
        return module.Call(x);
    }

    /// <summary>A <see cref="Dense"/> or <see cref="Conv2d"/> with the BatchNorm and the activation folded after it.</summary>
    private readonly record struct LayerRun(Module Layer, BatchNorm? Norm, FusedActivation Activation, int Length)
    {
        public Tensor Apply(Tensor x)
        {
            (float[] scale, float[] shift) = InferenceAffine.Of(Norm, FeaturesOf(Layer));
            return Layer switch
            {
                Dense d => x.LinearAffine(d.Weight, d.Bias, scale, shift, Activation),
                Conv2d c => x.Conv2dAffine(c.Weight, c.Bias, scale, shift, Activation, c.Stride.Height, c.Padding.Top),
                _ => throw new InvalidOperationException($"Fusion: {Layer.GetType().Name} is not a foldable layer."),
            };
        }
    }

    /// <summary>The inference run at chain[i] for input x: the layer (a Dense on (N, in) input or a Conv2d on
    /// (N, C, H, W)), then the BatchNorm of its kind if it uses its running statistics and has the layer's feature
    /// count, then a ReLU or Sigmoid; none with forward hooks. Null when nothing would fold (a layer without bias alone).</summary>
    private static LayerRun? InferenceRun(ReadOnlySpan<Module> chain, int i, Tensor x)
    {
        Module layer = chain[i];
        bool fits = layer switch
        {
            Dense d => x.Rank == 2 && x.Shape[1] == d.InFeatures,
            Conv2d c => c.IsPlain && x.Rank == 4 && x.Shape[1] == c.InChannels,   // the general geometry runs unfused
            _ => false,
        };
        if (!fits || layer.HasForwardHooks) return null;
        int next = i + 1;
        BatchNorm? norm = null;
        if (next < chain.Length && IsNormFor(layer, chain[next])
            && chain[next] is BatchNorm { HasForwardHooks: false, UsesBatchStatistics: false } n && n.NumFeatures == FeaturesOf(layer))
            (norm, next) = (n, next + 1);
        FusedActivation activation = FusedActivation.None;
        if (next < chain.Length && !chain[next].HasForwardHooks && ActivationOf(chain[next]) is { } a)
            (activation, next) = (a, next + 1);
        if (next == i + 1 && BiasOf(layer) is null) return null;   // nothing to fold (a bias alone is added as the product is written)
        return new LayerRun(layer, norm, activation, next - i);
    }

    /// <summary>A BatchNorm1d or BatchNorm2d (sealed, so no overridden Forward) followed by a ReLU, neither with hooks.</summary>
    private static bool IsBatchNormRelu(ReadOnlySpan<Module> chain, int i) =>
        i + 1 < chain.Length
        && chain[i] is (BatchNorm1d or BatchNorm2d) and { HasForwardHooks: false }
        && chain[i + 1] is ReLU { HasForwardHooks: false };

    /// <summary>An inference-only snapshot of <paramref name="modules"/> (a Sequential flattened, with dotted names):
    /// the rules of <see cref="Sequential.Freeze"/>.</summary>
    internal static FrozenSequential Freeze(IReadOnlyList<(Module Module, string Name)> modules)
    {
        var plan = new List<FrozenStep>();
        for (int i = 0; i < modules.Count; i++)
        {
            (Module module, string name) = modules[i];
            if (module.Training)
                throw new InvalidOperationException($"Sequential.Freeze: module {name} ({module.GetType().Name}) is in training mode; call Eval() first.");
            if (module is Dense or Conv2d { IsPlain: true })
            {
                int features = FeaturesOf(module), next = i + 1;
                BatchNorm? norm = null;
                if (next < modules.Count && IsNormFor(module, modules[next].Module))
                {
                    var n = (BatchNorm)modules[next].Module;
                    string normName = modules[next].Name, kind = n.GetType().Name;
                    if (n.Training)
                        throw new InvalidOperationException($"Sequential.Freeze: module {normName} ({kind}) is in training mode; call Eval() first.");
                    if (n.NumFeatures != features)
                        throw new ArgumentException($"Sequential.Freeze: module {normName} ({kind}({n.NumFeatures})) follows module {name} with {features} outputs.");
                    if (!n.UsesBatchStatistics) (norm, next) = (n, next + 1);   // otherwise it is copied, and normalises with batch statistics
                }
                FusedActivation activation = FusedActivation.None;
                if (next < modules.Count && ActivationOf(modules[next].Module) is { } a) (activation, next) = (a, next + 1);
                (float[] scale, float[] shift) = InferenceAffine.Of(norm, features);
                Module step = module switch
                {
                    Dense d => new FrozenLinear(d.Weight, d.Bias, scale, shift, activation) { FoldsBatchNorm = norm is not null },
                    Conv2d c => new FrozenConv2d(c.Weight, c.Bias, scale, shift, activation, c.Stride.Height, c.Padding.Top),
                    _ => throw new InvalidOperationException("unreachable"),
                };
                plan.Add(new FrozenStep(Names(modules, i, next), step, FreezeAction.Folded));
                i = next - 1;
            }
            else if (module is Dropout)
                plan.Add(new FrozenStep([name], null, FreezeAction.Removed));   // the identity in evaluation
            else
                plan.Add(new FrozenStep([name], FrozenCopy(module), FreezeAction.Copied));
        }
        return new FrozenSequential(plan);

        static string[] Names(IReadOnlyList<(Module Module, string Name)> modules, int from, int to)
        {
            var names = new string[to - from];
            for (int k = from; k < to; k++) names[k - from] = modules[k].Name;
            return names;
        }
    }

    /// <summary>A module Freeze cannot fold, as the frozen model carries it: a deep copy (<see cref="Module.Clone"/>) in
    /// evaluation mode whose parameters need no gradient, so training the original does not reach it.</summary>
    private static Module FrozenCopy(Module module)
    {
        Module copy = module.Clone();
        copy.Eval();
        foreach (Parameter p in copy.Parameters()) p.RequiresGrad = false;
        return copy;
    }

    /// <summary>Whether <paramref name="next"/> is the BatchNorm that folds into <paramref name="layer"/>: a BatchNorm1d
    /// after a Dense, a BatchNorm2d after a Conv2d.</summary>
    private static bool IsNormFor(Module layer, Module next) => (layer, next) is (Dense, BatchNorm1d) or (Conv2d, BatchNorm2d);

    private static int FeaturesOf(Module layer) => layer switch
    {
        Dense d => d.OutFeatures,
        Conv2d c => c.OutChannels,
        _ => throw new ArgumentException($"Fusion: {layer.GetType().Name} is not a foldable layer.", nameof(layer)),
    };

    private static Parameter? BiasOf(Module layer) => layer switch
    {
        Dense d => d.Bias,
        Conv2d c => c.Bias,
        _ => null,
    };

    /// <summary>The activation a fused layer applies for <paramref name="module"/>, or null if it is not one.</summary>
    private static FusedActivation? ActivationOf(Module module) => module switch
    {
        ReLU => FusedActivation.Relu,
        Sigmoid => FusedActivation.Sigmoid,
        _ => null,
    };
}
