using MiniNet.Kernels;

namespace MiniNet.Optim;

/// <summary>Adam, exactly PyTorch's rule (including the AMSGrad variant, and <c>maximize</c>, which ascends the
/// objective by using −g for g).</summary>
/// <remarks>
/// For each parameter p with gradient g, at its step t = 1, 2, …:
/// <code>
/// g ← g + weightDecay·p                       (Adam: L2 penalty through the gradient)
/// m ← β₁·m + (1 − β₁)·g;   v ← β₂·v + (1 − β₂)·g²;   (AMSGrad: v̂ ← max(v̂, v))
/// p ← p − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε)
/// </code>
/// <see cref="AdamW"/> instead decays the weights directly: p ← p·(1 − lr·weightDecay) before the same update without the L2 term.
/// </remarks>
public class Adam : Optimizer
{
    private readonly Tensor[] _m, _v;
    private readonly Tensor?[] _vMax;
    private readonly Tensor _step;
    private readonly bool _decoupled;

    /// <summary>One group over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">lr ≤ 0, a beta outside [0, 1), eps or weightDecay &lt; 0; the message names it.</exception>
    public Adam(IEnumerable<Tensor> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
        float weightDecay = 0f, bool amsgrad = false, bool maximize = false)
        : this([new ParamGroup(parameters)], lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled: false, maximize) { }

    /// <summary>Several groups, each with its own learning rate (or <paramref name="lr"/>).</summary>
    public Adam(IEnumerable<ParamGroup> groups, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
        float weightDecay = 0f, bool amsgrad = false, bool maximize = false)
        : this(groups, lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled: false, maximize) { }

    private protected Adam(IEnumerable<ParamGroup> groups, float lr, float beta1, float beta2, float eps, float weightDecay,
        bool amsgrad, bool decoupled, bool maximize) : base(groups, lr)
    {
        if (!(beta1 >= 0f && beta1 < 1f)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, $"beta1 must be in [0, 1), got {beta1}.");
        if (!(beta2 >= 0f && beta2 < 1f)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, $"beta2 must be in [0, 1), got {beta2}.");
        CheckNonNegative(eps, nameof(eps));
        CheckNonNegative(weightDecay, nameof(weightDecay));
        (Beta1, Beta2, Eps, WeightDecay, AmsGrad, Maximize, _decoupled) = (beta1, beta2, eps, weightDecay, amsgrad, maximize, decoupled);
        Tensor[] parameters = ParamGroups.SelectMany(g => g.Parameters).ToArray();
        int n = parameters.Length;
        (_m, _v, _vMax) = (new Tensor[n], new Tensor[n], new Tensor?[n]);
        for (int i = 0; i < n; i++)
        {
            _m[i] = RegisterState($"state.{i}.exp_avg", Tensor.ZerosLike(parameters[i]));
            _v[i] = RegisterState($"state.{i}.exp_avg_sq", Tensor.ZerosLike(parameters[i]));
            if (amsgrad) _vMax[i] = RegisterState($"state.{i}.max_exp_avg_sq", Tensor.ZerosLike(parameters[i]));
        }
        _step = RegisterState("state.step", Tensor.Zeros(n));
    }

    /// <summary>β₁, the decay of the first-moment estimate.</summary>
    public float Beta1 { get; }

    /// <summary>β₂, the decay of the second-moment estimate.</summary>
    public float Beta2 { get; }

    /// <summary>ε added to the denominator.</summary>
    public float Eps { get; }

    /// <summary>Weight decay: an L2 term for Adam, a decoupled decay for AdamW.</summary>
    public float WeightDecay { get; }

    /// <summary>Whether the AMSGrad maximum of second moments is used.</summary>
    public bool AmsGrad { get; }

    /// <summary>Whether the objective is maximised: the update uses −g, before weight decay is added (PyTorch's rule).</summary>
    public bool Maximize { get; }

    /// <inheritdoc/>
    protected override void Update(int index, Tensor parameter, Tensor grad, float lr)
    {
        float t = _step.Data[index] += 1f;
        var step = new OptimizerKernels.AdamStep(Beta1, Beta2, Eps,
            StepSize: (float)(lr / (1.0 - Math.Pow(Beta1, t))),
            Correction2: (float)Math.Sqrt(1.0 - Math.Pow(Beta2, t)),
            Decay: _decoupled ? 1f - lr * WeightDecay : 1f,
            WeightDecay: _decoupled ? 0f : WeightDecay);
        float[] g = grad.Storage;
        if (Maximize)
        {
            g = BufferPool.Rent(grad.Numel);
            System.Numerics.Tensors.TensorPrimitives.Negate(grad.Storage.AsSpan(0, grad.Numel), g.AsSpan(0, grad.Numel));
        }
        OptimizerKernels.Adam(parameter.Storage, g, _m[index].Storage, _v[index].Storage, _vMax[index]?.Storage, parameter.Numel, step);
        if (Maximize) BufferPool.Return(g);
    }
}

/// <summary>AdamW: Adam with decoupled weight decay, p ← p·(1 − lr·weightDecay) before the Adam step (PyTorch's rule; default weight decay 0.01).</summary>
public sealed class AdamW : Adam
{
    /// <summary>One group over <paramref name="parameters"/>.</summary>
    public AdamW(IEnumerable<Tensor> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
        float weightDecay = 1e-2f, bool amsgrad = false, bool maximize = false)
        : base([new ParamGroup(parameters)], lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled: true, maximize) { }

    /// <summary>Several groups, each with its own learning rate (or <paramref name="lr"/>).</summary>
    public AdamW(IEnumerable<ParamGroup> groups, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
        float weightDecay = 1e-2f, bool amsgrad = false, bool maximize = false)
        : base(groups, lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled: true, maximize) { }
}
