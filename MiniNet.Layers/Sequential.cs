using Microsoft.Extensions.Logging;

namespace MiniNet.Layers;

/// <summary>Applies its modules in order: y = mₖ(…m₂(m₁(x))). Children are named "0", "1", … as in PyTorch.</summary>
/// <remarks>A <see cref="Dense"/> or <see cref="Conv2d"/> with a bias directly before a <see cref="BatchNorm"/> logs a
/// warning: BatchNorm subtracts the batch mean, which cancels that bias (β takes its role).</remarks>
public sealed class Sequential : Module, IReadOnlyList<Module>
{
    private readonly Module[] _modules;

    /// <summary>Chains <paramref name="modules"/>; warnings go to <see cref="MiniNetLogging.Logger"/> (by default, once
    /// each to standard error).</summary>
    public Sequential(params Module[] modules) : this(MiniNetLogging.Logger, modules) { }

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

    /// <summary>Fuse runs of modules for inference (on by default): <see cref="FusionKinds.Inference"/>.</summary>
    public bool FuseForInference { get; set; } = true;

    /// <summary>Run a <see cref="BatchNorm"/> followed by a <see cref="ReLU"/> as one op, in training as in evaluation
    /// (<see cref="FusionKinds.BatchNormRelu"/>: one pass fewer forward and backward, no intermediate tensor). The output
    /// and gradients equal the two modules'. Off for modules with forward hooks and under anomaly detection. Default true.</summary>
    public bool FuseBatchNormRelu { get; set; } = true;

    /// <summary>Applies the modules in order, through the fusion planner (<see cref="Fusion"/>): the runs that
    /// <see cref="FuseForInference"/> and <see cref="FuseBatchNormRelu"/> allow compute as one fused op each, and every
    /// other module runs by <see cref="Module.Call"/> (its forward hooks run).</summary>
    /// <remarks>Modules with forward hooks, and anomaly detection, turn fusion off for the run they are in, so hooks always
    /// see each module's own input and output. See <see cref="FusionKinds"/> for what fuses.</remarks>
    public override Tensor Forward(Tensor x)
    {
        FusionKinds kinds = (FuseForInference ? FusionKinds.Inference : 0) | (FuseBatchNormRelu ? FusionKinds.BatchNormRelu : 0);
        return Fusion.Forward(x, kinds, _modules);
    }

    /// <summary>An inference-only snapshot of this model (see <see cref="FrozenSequential"/>): each Dense, with the
    /// evaluation-mode BatchNorm1d (that uses running statistics) and ReLU or Sigmoid after it, folded into a
    /// <see cref="FrozenLinear"/> whose weight is packed once, and each Conv2d with the BatchNorm2d and activation after
    /// it into a <see cref="FrozenConv2d"/>. Nested Sequentials are flattened, Dropout is left out, and every other module
    /// (a LayerNorm, a lone BatchNorm, a custom layer) is carried as a deep copy; <see cref="FrozenSequential.Plan"/>
    /// says which.</summary>
    /// <exception cref="InvalidOperationException">A module is in training mode (call <see cref="Module.Eval"/> first).</exception>
    /// <exception cref="ArgumentException">A BatchNorm's feature count differs from the outputs of the layer before it.</exception>
    public FrozenSequential Freeze()
    {
        var modules = new List<(Module Module, string Name)>();
        Flatten(this, "", modules);
        return Fusion.Freeze(modules);

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

    /// <summary>The module at <paramref name="index"/>.</summary>
    public Module this[int index] => _modules[index];

    /// <summary>The number of modules.</summary>
    public int Count => _modules.Length;

    /// <inheritdoc/>
    public IEnumerator<Module> GetEnumerator() => ((IEnumerable<Module>)_modules).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
