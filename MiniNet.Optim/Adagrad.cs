namespace MiniNet.Optim;

/// <summary>Adagrad, PyTorch's rule.</summary>
/// <remarks>
/// For each parameter p with gradient g, at its step t = 1, 2, …:
/// <code>
/// g ← g + weightDecay·p;   η ← lr / (1 + (t − 1)·lrDecay)
/// s ← s + g²;   p ← p − η·g / (√s + ε)
/// </code>
/// s starts at <c>initialAccumulatorValue</c>.
/// </remarks>
public sealed class Adagrad : Optimizer
{
    private readonly Tensor[] _sum;
    private readonly Tensor _step;

    /// <summary>One group over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">lr ≤ 0, lrDecay, weightDecay, initialAccumulatorValue or eps &lt; 0; the message names it.</exception>
    public Adagrad(IEnumerable<Tensor> parameters, float lr = 1e-2f, float lrDecay = 0f, float weightDecay = 0f,
        float initialAccumulatorValue = 0f, float eps = 1e-10f)
        : this([new ParamGroup(parameters)], lr, lrDecay, weightDecay, initialAccumulatorValue, eps) { }

    /// <summary>Several groups, each with its own learning rate (or <paramref name="lr"/>).</summary>
    public Adagrad(IEnumerable<ParamGroup> groups, float lr = 1e-2f, float lrDecay = 0f, float weightDecay = 0f,
        float initialAccumulatorValue = 0f, float eps = 1e-10f) : base(groups, lr)
    {
        CheckNonNegative(lrDecay, nameof(lrDecay));
        CheckNonNegative(weightDecay, nameof(weightDecay));
        CheckNonNegative(initialAccumulatorValue, nameof(initialAccumulatorValue));
        CheckNonNegative(eps, nameof(eps));
        (LrDecay, WeightDecay, Eps) = (lrDecay, weightDecay, eps);
        Tensor[] parameters = ParamGroups.SelectMany(g => g.Parameters).ToArray();
        _sum = new Tensor[parameters.Length];
        for (int i = 0; i < parameters.Length; i++)
            _sum[i] = RegisterState($"state.{i}.sum", Tensor.Full([.. parameters[i].Shape], initialAccumulatorValue));
        _step = RegisterState("state.step", Tensor.Zeros(parameters.Length));
    }

    /// <summary>The decay of the learning rate per step.</summary>
    public float LrDecay { get; }

    /// <summary>The L2 term added to the gradient.</summary>
    public float WeightDecay { get; }

    /// <summary>ε added to the root of the sum of squares.</summary>
    public float Eps { get; }

    /// <inheritdoc/>
    protected override void Update(int index, Tensor parameter, Tensor grad, float lr)
    {
        float t = _step.Data[index] += 1f;
        float rate = (float)(lr / (1.0 + (t - 1) * LrDecay));
        float[] p = parameter.Storage, g = grad.Storage, s = _sum[index].Storage;
        for (int i = 0; i < parameter.Numel; i++)
        {
            float gi = WeightDecay != 0 ? g[i] + WeightDecay * p[i] : g[i];
            s[i] += gi * gi;
            p[i] -= rate * (gi / (MathF.Sqrt(s[i]) + Eps));
        }
    }
}
