using Microsoft.Extensions.Logging;

namespace MiniNet.Layers;

/// <summary>Applies its modules in order: y = mₖ(…m₂(m₁(x))). Children are named "0", "1", … as in PyTorch.</summary>
/// <remarks>A <see cref="Dense"/> or <see cref="Conv2d"/> with a bias directly before a <see cref="BatchNorm"/> logs a
/// warning: BatchNorm subtracts the batch mean, which cancels that bias (β takes its role).</remarks>
public sealed class Sequential : Module, IReadOnlyList<Module>
{
    private readonly Module[] _modules;

    /// <summary>Chains <paramref name="modules"/>; warnings go to <see cref="LayerLogging.Logger"/>.</summary>
    public Sequential(params Module[] modules) : this(LayerLogging.Logger, modules) { }

    /// <summary>Chains <paramref name="modules"/>; warnings go to <paramref name="logger"/>.</summary>
    public Sequential(ILogger logger, params Module[] modules)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(modules);
        _modules = (Module[])modules.Clone();
        for (int i = 0; i < _modules.Length; i++)
        {
            if (_modules[i] is null) throw new ArgumentNullException(nameof(modules), $"Sequential: module {i} is null.");
            RegisterModule(i.ToString(System.Globalization.CultureInfo.InvariantCulture), _modules[i]);
        }
        for (int i = 0; i + 1 < _modules.Length; i++)
        {
            bool hasBias = _modules[i] is Dense { Bias: not null } or Conv2d { Bias: not null };
            if (hasBias && _modules[i + 1] is BatchNorm)
                logger.LogWarning(
                    "Sequential: module {Index} ({Layer}) has a bias and feeds {Norm} directly; the BatchNorm's mean subtraction cancels that bias. Pass bias: false.",
                    i, _modules[i].GetType().Name, _modules[i + 1].GetType().Name);
        }
    }

    /// <summary>Fuse runs of modules for inference (on by default); see the remarks of <see cref="Forward"/>.</summary>
    public bool FuseForInference { get; set; } = true;

    /// <summary>Run a <see cref="BatchNorm"/> followed by a <see cref="ReLU"/> as one op, in training as in evaluation
    /// (<see cref="Ops.BatchNormRelu"/>: one pass fewer forward and backward, no intermediate tensor). The output and
    /// gradients equal the two modules'. Off for modules with forward hooks and under anomaly detection. Default true.</summary>
    public bool FuseBatchNormRelu { get; set; } = true;

    /// <summary>Applies the modules in order.</summary>
    /// <remarks>Inference fusion: when no graph is recorded (under <see cref="Autograd.NoGrad"/>), a <see cref="Dense"/>
    /// on a 2-D input followed by an evaluation-mode <see cref="BatchNorm1d"/> that uses its running statistics, and/or
    /// by a <see cref="ReLU"/> or <see cref="Sigmoid"/> (or a Dense with a bias on its own), runs as one
    /// <see cref="Ops.LinearAffine"/>, and a <see cref="Conv2d"/> with an evaluation-mode <see cref="BatchNorm2d"/> and/or
    /// activation after it as one <see cref="Ops.Conv2dAffine"/>: the bias, normalisation
    /// and activation are applied to the product while it is in cache, and no intermediate tensor is written. The
    /// result equals the unfused chain up to float rounding. Modules with forward hooks, and anomaly detection, turn
    /// fusion off for the run they are in, so hooks always see each module's own input and output.
    /// <para>BatchNorm → ReLU fusion, in training as in evaluation (<see cref="FuseBatchNormRelu"/>): a
    /// <see cref="BatchNorm1d"/> or <see cref="BatchNorm2d"/> followed by a <see cref="ReLU"/> runs as one
    /// <see cref="Ops.BatchNormRelu"/>, bitwise equal to the two modules; hooks and anomaly detection turn it off too.</para></remarks>
    public override Tensor Forward(Tensor x)
    {
        bool fuse = FuseForInference && !Autograd.Enabled && !Autograd.AnomalyDetection;
        for (int i = 0; i < _modules.Length; i++)
        {
            if (fuse && (TryFuseDense(i, x, out Tensor fused, out int consumed) || TryFuseConv(i, x, out fused, out consumed)))
            {
                x = fused;
                i += consumed - 1;
                continue;
            }
            if (FuseBatchNormRelu && !Autograd.AnomalyDetection && i + 1 < _modules.Length
                && _modules[i] is (BatchNorm1d or BatchNorm2d) and BatchNorm { HasForwardHooks: false } norm   // sealed: no overridden Forward
                && _modules[i + 1] is ReLU { HasForwardHooks: false })
            {
                x = norm.ForwardWithRelu(x);
                i++;
                continue;
            }
            x = _modules[i].Call(x);   // Call: the children's forward hooks run
        }
        return x;
    }

    /// <summary>Dense [→ BatchNorm1d in evaluation mode] [→ ReLU | Sigmoid] at <paramref name="i"/>, as one fused op
    /// (a Dense with a bias on its own too: the bias is added as the product is written).</summary>
    private bool TryFuseDense(int i, Tensor x, out Tensor y, out int consumed)
    {
        y = null!;
        consumed = 0;
        if (_modules[i] is not Dense { HasForwardHooks: false } dense || x.Rank != 2 || x.Shape[1] != dense.InFeatures) return false;
        var (norm, activation, next) = FollowingNormAndActivation<BatchNorm1d>(i, dense.OutFeatures);
        if (next == i + 1 && dense.Bias is null) return false;   // nothing to fuse (a bias alone is added as the product is written)

        InferenceAffine(norm, dense.OutFeatures, out float[] scale, out float[] shift);
        y = x.LinearAffine(dense.Weight, dense.Bias, scale, shift, activation);
        consumed = next - i;
        return true;
    }

    /// <summary>An inference-only snapshot of this model (see <see cref="FrozenSequential"/>): Dense layers, with the
    /// evaluation-mode BatchNorm1d and ReLU or Sigmoid after them, folded into <see cref="FrozenLinear"/> layers whose
    /// weights are packed once, and Conv2d layers with the BatchNorm2d and activation after them into
    /// <see cref="FrozenConv2d"/> layers. Nested Sequentials are flattened.</summary>
    /// <exception cref="InvalidOperationException">A module is in training mode (call <see cref="Module.Eval"/> first), or
    /// a BatchNorm1d or BatchNorm2d does not normalise with running statistics.</exception>
    /// <exception cref="NotSupportedException">A module with parameters or buffers that cannot be folded (a BatchNorm not
    /// directly after a Dense or Conv2d, or a LayerNorm, say).</exception>
    /// <exception cref="ArgumentException">A BatchNorm's feature count differs from the outputs of the layer before it.</exception>
    public FrozenSequential Freeze()
    {
        var modules = new List<(Module Module, string Name)>();
        Flatten(this, "", modules);
        var steps = new List<object>();
        var needsMatrix = new List<bool>();
        for (int i = 0; i < modules.Count; i++)
        {
            (Module module, string name) = modules[i];
            if (module.Training)
                throw new InvalidOperationException($"Sequential.Freeze: module {name} ({module.GetType().Name}) is in training mode; call Eval() first.");
            if (module is Dense dense)
            {
                var (norm, activation, scale, shift) = Folded<BatchNorm1d>(modules, ref i, dense.OutFeatures);
                steps.Add(new FrozenLinear(dense.Weight, dense.Bias, scale, shift, activation));
                needsMatrix.Add(norm is not null);
            }
            else if (module is Conv2d conv)
            {
                var (_, activation, scale, shift) = Folded<BatchNorm2d>(modules, ref i, conv.OutChannels);
                steps.Add(new FrozenConv2d(conv.Weight, conv.Bias, scale, shift, activation, conv.Stride, conv.Padding));
                needsMatrix.Add(false);
            }
            else if (module is Dropout) { }   // the identity in evaluation, whatever mode the model is put in later
            else if (!module.NamedParameters().Any() && !module.NamedBuffers().Any())
            {
                steps.Add(module);
                needsMatrix.Add(false);
            }
            else
                throw new NotSupportedException(
                    $"Sequential.Freeze: module {name} ({module.GetType().Name}) has parameters or buffers and cannot be folded; Freeze folds Dense [→ BatchNorm1d], Conv2d [→ BatchNorm2d] and parameter-free modules.");
        }
        return new FrozenSequential(steps, needsMatrix);

        static void Flatten(Sequential sequential, string prefix, List<(Module, string)> into)
        {
            for (int i = 0; i < sequential._modules.Length; i++)
            {
                string name = prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (sequential._modules[i] is Sequential inner) Flatten(inner, name + ".", into);
                else into.Add((sequential._modules[i], name));
            }
        }
    }

    /// <summary>For <see cref="Freeze"/>: the <typeparamref name="TNorm"/> and ReLU or Sigmoid that follow module
    /// <paramref name="i"/> (advanced past them), with the normalisation as a per-feature scale and shift.</summary>
    private static (TNorm? Norm, FusedActivation Activation, float[] Scale, float[] Shift) Folded<TNorm>(
        List<(Module Module, string Name)> modules, ref int i, int features) where TNorm : BatchNorm
    {
        string layer = modules[i].Name;
        TNorm? norm = null;
        if (i + 1 < modules.Count && modules[i + 1].Module is TNorm n)
        {
            if (n.Training)
                throw new InvalidOperationException($"Sequential.Freeze: module {modules[i + 1].Name} ({typeof(TNorm).Name}) is in training mode; call Eval() first.");
            if (n.NumFeatures != features)
                throw new ArgumentException(
                    $"Sequential.Freeze: module {modules[i + 1].Name} ({typeof(TNorm).Name}({n.NumFeatures})) follows module {layer} with {features} outputs.");
            norm = n;
            i++;
        }
        FusedActivation activation = FusedActivation.None;
        if (i + 1 < modules.Count && FusedActivationOf(modules[i + 1].Module) is { } fused)
        {
            activation = fused;
            i++;
        }
        if (!InferenceAffine(norm, features, out float[] scale, out float[] shift))
            throw new InvalidOperationException(
                $"Sequential.Freeze: the {typeof(TNorm).Name} after module {layer} does not normalise with running statistics (no running statistics, or a statistics observer attached), so it cannot be frozen.");
        return (norm, activation, scale, shift);
    }

    /// <summary>Conv2d [→ BatchNorm2d in evaluation mode] [→ ReLU | Sigmoid] at <paramref name="i"/>, as one
    /// <see cref="Ops.Conv2dAffine"/> (a Conv2d with a bias on its own too).</summary>
    private bool TryFuseConv(int i, Tensor x, out Tensor y, out int consumed)
    {
        y = null!;
        consumed = 0;
        if (_modules[i] is not Conv2d { HasForwardHooks: false } conv || x.Rank != 4 || x.Shape[1] != conv.InChannels) return false;
        var (norm, activation, next) = FollowingNormAndActivation<BatchNorm2d>(i, conv.OutChannels);
        if (next == i + 1 && conv.Bias is null) return false;   // nothing to fuse

        InferenceAffine(norm, conv.OutChannels, out float[] scale, out float[] shift);
        y = x.Conv2dAffine(conv.Weight, conv.Bias, scale, shift, activation, conv.Stride, conv.Padding);
        consumed = next - i;
        return true;
    }

    /// <summary>After the layer at <paramref name="i"/>: an evaluation-mode <typeparamref name="TNorm"/> of
    /// <paramref name="features"/> that uses its running statistics, and/or a ReLU or Sigmoid, none with forward hooks;
    /// returns them and the index after them.</summary>
    private (TNorm? Norm, FusedActivation Activation, int Next) FollowingNormAndActivation<TNorm>(int i, int features) where TNorm : BatchNorm
    {
        int next = i + 1;
        TNorm? norm = null;
        if (next < _modules.Length && _modules[next] is TNorm { HasForwardHooks: false, NormalizesWithRunningStatistics: true } n
            && n.NumFeatures == features)
            (norm, next) = (n, next + 1);
        FusedActivation activation = FusedActivation.None;
        if (next < _modules.Length && !_modules[next].HasForwardHooks && FusedActivationOf(_modules[next]) is { } fused)
        {
            activation = fused;
            next++;
        }
        return (norm, activation, next);
    }

    /// <summary>The activation a fused layer applies for <paramref name="module"/>, or null if it is not one.</summary>
    private static FusedActivation? FusedActivationOf(Module module) => module switch
    {
        ReLU => FusedActivation.Relu,
        Sigmoid => FusedActivation.Sigmoid,
        _ => null,
    };

    /// <summary>The per-feature map a fused layer applies for <paramref name="norm"/>: its inference affine map, or the
    /// identity without one. False when the BatchNorm does not normalise with running statistics.</summary>
    private static bool InferenceAffine(BatchNorm? norm, int features, out float[] scale, out float[] shift)
    {
        (scale, shift) = (new float[features], new float[features]);
        if (norm is not null) return norm.TryGetInferenceAffine(scale, shift);
        scale.AsSpan().Fill(1f);
        return true;
    }

    /// <summary>The module at <paramref name="index"/>.</summary>
    public Module this[int index] => _modules[index];

    /// <summary>The number of modules.</summary>
    public int Count => _modules.Length;

    /// <inheritdoc/>
    public IEnumerator<Module> GetEnumerator() => ((IEnumerable<Module>)_modules).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
