namespace MiniNet.Optim;

/// <summary>RMSprop, PyTorch's rule (including its centered and momentum variants).</summary>
/// <remarks>
/// For each parameter p with gradient g:
/// <code>
/// g ← g + weightDecay·p
/// s ← α·s + (1 − α)·g²                            (centered: ḡ ← α·ḡ + (1 − α)·g;  d ← √(s − ḡ²) + ε)
/// d ← √s + ε
/// momentum &gt; 0: b ← momentum·b + g/d;  p ← p − lr·b     otherwise p ← p − lr·g/d
/// </code>
/// As in PyTorch, ε is added after the square root and the first step starts from s = 0.
/// </remarks>
public sealed class RMSprop : Optimizer
{
    private readonly Tensor[] _squareAverage;
    private readonly Tensor?[] _gradAverage, _buffer;

    /// <summary>One group over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">lr ≤ 0, alpha outside [0, 1], eps, weightDecay or momentum &lt; 0; the message names it.</exception>
    public RMSprop(IEnumerable<Tensor> parameters, float lr = 1e-2f, float alpha = 0.99f, float eps = 1e-8f, float weightDecay = 0f,
        float momentum = 0f, bool centered = false)
        : this([new ParamGroup(parameters)], lr, alpha, eps, weightDecay, momentum, centered) { }

    /// <summary>Several groups, each with its own learning rate (or <paramref name="lr"/>).</summary>
    public RMSprop(IEnumerable<ParamGroup> groups, float lr = 1e-2f, float alpha = 0.99f, float eps = 1e-8f, float weightDecay = 0f,
        float momentum = 0f, bool centered = false) : base(groups, lr)
    {
        if (!(alpha >= 0f && alpha <= 1f)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"alpha must be in [0, 1], got {alpha}.");
        CheckNonNegative(eps, nameof(eps));
        CheckNonNegative(weightDecay, nameof(weightDecay));
        CheckNonNegative(momentum, nameof(momentum));
        (Alpha, Eps, WeightDecay, Momentum, Centered) = (alpha, eps, weightDecay, momentum, centered);
        Tensor[] parameters = ParamGroups.SelectMany(g => g.Parameters).ToArray();
        int n = parameters.Length;
        (_squareAverage, _gradAverage, _buffer) = (new Tensor[n], new Tensor?[n], new Tensor?[n]);
        for (int i = 0; i < n; i++)
        {
            _squareAverage[i] = RegisterState($"state.{i}.square_avg", Tensor.ZerosLike(parameters[i]));
            if (momentum > 0) _buffer[i] = RegisterState($"state.{i}.momentum_buffer", Tensor.ZerosLike(parameters[i]));
            if (centered) _gradAverage[i] = RegisterState($"state.{i}.grad_avg", Tensor.ZerosLike(parameters[i]));
        }
    }

    /// <summary>α, the decay of the mean square.</summary>
    public float Alpha { get; }

    /// <summary>ε added to the root mean square.</summary>
    public float Eps { get; }

    /// <summary>The L2 term added to the gradient.</summary>
    public float WeightDecay { get; }

    /// <summary>The momentum of the update (0: none).</summary>
    public float Momentum { get; }

    /// <summary>Whether the mean square is centered by the mean gradient's square.</summary>
    public bool Centered { get; }

    /// <inheritdoc/>
    protected override void Update(int index, Tensor parameter, Tensor grad, float lr)
    {
        float[] p = parameter.Storage, g = grad.Storage, s = _squareAverage[index].Storage;
        float[]? mean = _gradAverage[index]?.Storage, b = _buffer[index]?.Storage;
        float keep = 1f - Alpha;
        for (int i = 0; i < parameter.Numel; i++)
        {
            // Each line rounds as PyTorch's separate in-place operations do.
            float gi = WeightDecay != 0 ? g[i] + WeightDecay * p[i] : g[i];
            s[i] = s[i] * Alpha + keep * gi * gi;
            float d;
            if (mean is not null)
            {
                mean[i] = mean[i] * Alpha + keep * gi;
                d = MathF.Sqrt(s[i] - mean[i] * mean[i]) + Eps;
            }
            else d = MathF.Sqrt(s[i]) + Eps;
            if (b is not null)
            {
                b[i] = b[i] * Momentum + gi / d;
                p[i] -= lr * b[i];
            }
            else p[i] -= lr * (gi / d);
        }
    }
}
