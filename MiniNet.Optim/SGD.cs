using MiniNet.Kernels;

namespace MiniNet.Optim;

/// <summary>Stochastic gradient descent with momentum, exactly PyTorch's rule.</summary>
/// <remarks>
/// For each parameter p with gradient g:
/// <code>
/// g ← g + weightDecay·p
/// if momentum ≠ 0:  v ← g on the first step, else v ← momentum·v + (1 − dampening)·g
///                   g ← g + momentum·v  (Nesterov)  or  g ← v
/// p ← p − lr·g
/// </code>
/// Note the convention: the learning rate multiplies the momentum buffer, so v accumulates raw gradients.
/// </remarks>
public sealed class SGD : Optimizer
{
    private readonly Tensor[] _buffers;
    private readonly Tensor? _started;   // 1 where the momentum buffer holds a value (state, so resumption is exact)

    /// <summary>One group over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">lr ≤ 0, or momentum, dampening or weightDecay &lt; 0; the message names it.</exception>
    /// <exception cref="ArgumentException">Nesterov without momentum or with dampening.</exception>
    public SGD(IEnumerable<Tensor> parameters, float lr, float momentum = 0f, float dampening = 0f, float weightDecay = 0f, bool nesterov = false)
        : this([new ParamGroup(parameters)], lr, momentum, dampening, weightDecay, nesterov) { }

    /// <summary>Several groups, each with its own learning rate (or <paramref name="lr"/>).</summary>
    public SGD(IEnumerable<ParamGroup> groups, float lr, float momentum = 0f, float dampening = 0f, float weightDecay = 0f, bool nesterov = false)
        : base(groups, lr)
    {
        CheckNonNegative(momentum, nameof(momentum));
        CheckNonNegative(dampening, nameof(dampening));
        CheckNonNegative(weightDecay, nameof(weightDecay));
        if (nesterov && (momentum <= 0f || dampening != 0f))
            throw new ArgumentException("SGD: nesterov requires momentum > 0 and dampening = 0.", nameof(nesterov));
        (Momentum, Dampening, WeightDecay, Nesterov) = (momentum, dampening, weightDecay, nesterov);
        var parameters = ParamGroups.SelectMany(g => g.Parameters).ToArray();
        _buffers = new Tensor[parameters.Length];
        for (int i = 0; i < parameters.Length; i++)
        {
            if (momentum != 0f) _buffers[i] = RegisterState($"state.{i}.momentum_buffer", Tensor.ZerosLike(parameters[i]));
        }
        if (momentum != 0f) _started = RegisterState("state.momentum_started", Tensor.Zeros(parameters.Length));
    }

    /// <summary>Momentum factor μ.</summary>
    public float Momentum { get; }

    /// <summary>Dampening for momentum.</summary>
    public float Dampening { get; }

    /// <summary>L2 penalty added to the gradient.</summary>
    public float WeightDecay { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    protected override void Update(int index, Tensor parameter, Tensor grad, float lr)
    {
        bool started = Momentum != 0f && _started!.Data[index] != 0f;
        if (started && WeightDecay == 0f && !Nesterov)
        {
            // The common case in one fused pass: v ← μ·v + (1 − dampening)·g; p ← p − lr·v.
            OptimizerKernels.SgdMomentum(parameter.Storage, grad.Storage, _buffers[index].Storage, parameter.Numel, lr, Momentum, Dampening);
            return;
        }
        OptimizerKernels.Sgd(parameter.Storage, grad.Storage, Momentum != 0f ? _buffers[index].Storage : null, parameter.Numel,
            new OptimizerKernels.SgdStep(lr, Momentum, Dampening, WeightDecay, Nesterov, FirstStep: !started));
        if (Momentum != 0f) _started!.Data[index] = 1f;
    }
}
