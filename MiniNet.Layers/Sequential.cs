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

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        foreach (Module m in _modules) x = m.Call(x);   // Call: the children's forward hooks run
        return x;
    }

    /// <summary>The module at <paramref name="index"/>.</summary>
    public Module this[int index] => _modules[index];

    /// <summary>The number of modules.</summary>
    public int Count => _modules.Length;

    /// <inheritdoc/>
    public IEnumerator<Module> GetEnumerator() => ((IEnumerable<Module>)_modules).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
