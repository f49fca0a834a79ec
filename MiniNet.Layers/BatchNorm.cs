namespace MiniNet.Layers;

/// <summary>Receives one batch's per-channel statistics (<see cref="BatchNorm.ObserveBatchStatistics"/>): mean, biased
/// variance, and the count m = N·L of values per channel.</summary>
public delegate void BatchStatisticsObserver(ReadOnlySpan<double> mean, ReadOnlySpan<double> biasedVariance, int count);

/// <summary>A batch-norm op with the signature of <see cref="Ops.BatchNorm(Tensor, Tensor?, Tensor?, Tensor?, Tensor?, bool, float, float)"/>
/// (the plain op, or a fused form of it).</summary>
internal delegate Tensor BatchNormOp(Tensor x, Tensor? weight, Tensor? bias, Tensor? runningMean, Tensor? runningVar, bool training,
    float factor, float eps);

/// <summary>Batch normalization, y = γ·(x − μ)/√(σ² + ε) + β per channel, with γ = <see cref="Weight"/> and β = <see cref="Bias"/>.</summary>
/// <remarks>
/// <para>Training: μ and the biased σ² of the mini-batch (gradients flow through both, in one fused kernel), and the
/// running statistics are updated: running = (1 − momentum)·running + momentum·batch, with the unbiased m/(m − 1)
/// batch variance for <c>running_var</c>. Momentum 0.1 is the notes' α = 0.9 (α weighs the old value). A null momentum
/// gives a cumulative average, factor 1/<c>num_batches_tracked</c>.</para>
/// <para>Evaluation: the running statistics, never updated. With <c>trackRunningStats: false</c> there are none, and
/// batch statistics are used in evaluation too.</para>
/// </remarks>
public abstract class BatchNorm : Module
{
    /// <summary>Shared constructor of <see cref="BatchNorm1d"/> and <see cref="BatchNorm2d"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">numFeatures ≤ 0, eps ≤ 0, or momentum outside [0, 1].</exception>
    protected BatchNorm(int numFeatures, float eps, float? momentum, bool affine, bool trackRunningStats)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFeatures);
        if (!(eps > 0f)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"{GetType().Name}: eps must be positive.");
        if (momentum is { } mo && !(mo >= 0f && mo <= 1f))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"{GetType().Name}: momentum must be in [0, 1] or null.");
        (NumFeatures, Eps, Momentum, Affine, TrackRunningStats) = (numFeatures, eps, momentum, affine, trackRunningStats);
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(numFeatures));   // γ = 1
            Bias = RegisterParameter("bias", Tensor.Zeros(numFeatures));      // β = 0
        }
        if (trackRunningStats)
        {
            RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures));
            RunningVar = RegisterBuffer("running_var", Tensor.Ones(numFeatures));
            NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros(DType.Int64));   // int64, as PyTorch keeps it
        }
    }

    /// <summary>The number of channels C.</summary>
    public int NumFeatures { get; }

    /// <summary>ε added to the variance.</summary>
    public float Eps { get; }

    /// <summary>The weight of a new batch in the running averages (0.1 by default; not an optimizer's momentum), or null for a cumulative average.</summary>
    public float? Momentum { get; }

    /// <summary>Whether γ and β exist.</summary>
    public bool Affine { get; }

    /// <summary>Whether running statistics are kept and used in evaluation.</summary>
    public bool TrackRunningStats { get; }

    /// <summary>γ, shape (C), initialised to ones; null without affine parameters.</summary>
    public Parameter? Weight { get; }

    /// <summary>β, shape (C), initialised to zeros; null without affine parameters.</summary>
    public Parameter? Bias { get; }

    /// <summary>Running mean (C), initialised to zeros; null without running statistics.</summary>
    public Tensor? RunningMean { get; }

    /// <summary>Running (unbiased) variance (C), initialised to ones; null without running statistics.</summary>
    public Tensor? RunningVar { get; }

    /// <summary>The number of training batches seen: a rank-0 int64 tensor, saved as I64 (a float32 one from an older
    /// checkpoint loads into it); null without running statistics.</summary>
    public Tensor? NumBatchesTracked { get; }

    /// <summary>True when <see cref="Forward"/> normalises with the batch's own statistics: in training mode, without
    /// running statistics, or while a statistics observer is registered (<see cref="ObserveBatchStatistics"/>). False
    /// when it uses the running statistics: the output is then a fixed per-feature affine map of the input,
    /// y = x·γ/√(running σ² + ε) + (β − running μ·γ/√(running σ² + ε)), which inference fusion folds into the layer
    /// before it.</summary>
    public bool UsesBatchStatistics => Training || !TrackRunningStats || _observers is { Count: > 0 };

    [NotCopied] private List<BatchStatisticsObserver>? _observers;
    [NotCopied] private int _updating;   // 1 while a training-mode forward pass updates the state

    /// <summary>Registers <paramref name="observer"/>, called by each forward pass with the batch's per-channel mean,
    /// biased variance and count. While any observer is registered, the layer normalises with the batch's statistics
    /// in every mode and changes no state: the running statistics and <see cref="NumBatchesTracked"/> stay as they
    /// are. Population statistics (<see cref="BatchNormStatistics.Recompute"/>) and drift probes
    /// (<see cref="BatchNormProbe.Measure"/>) are built on it.</summary>
    /// <returns>A handle; disposing it removes the observer.</returns>
    public IDisposable ObserveBatchStatistics(BatchStatisticsObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        List<BatchStatisticsObserver> observers = _observers ??= [];
        observers.Add(observer);
        return new Registration(() => observers.Remove(observer));
    }

    /// <summary>Throws when x's rank or channel count does not fit the layer.</summary>
    protected abstract void CheckInput(Tensor x);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => Normalize(x, Ops.BatchNorm);

    /// <summary>Forward, computed by <paramref name="op"/>: <see cref="Ops.BatchNorm(Tensor, Tensor?, Tensor?, Tensor?, Tensor?, bool, float, float)"/>,
    /// or a fused form of it with the same arguments that the fusion planner chooses (<see cref="Ops.BatchNormRelu"/>
    /// for a BatchNorm followed by a ReLU). The layer's state decides the arguments and is updated here.</summary>
    internal Tensor Normalize(Tensor x, BatchNormOp op)
    {
        ArgumentNullException.ThrowIfNull(x);
        CheckInput(x);
        if (_observers is { Count: > 0 } observers)
        {
            Tensor normalized = op(x, Weight, Bias, null, null, training: true, 0.1f, Eps);   // validates x first
            var (mean, variance, count) = x.ChannelStatistics();
            foreach (BatchStatisticsObserver observer in observers.ToArray()) observer(mean, variance, count);
            return normalized;
        }
        if (!UsesBatchStatistics) return op(x, Weight, Bias, RunningMean, RunningVar, training: false, 0.1f, Eps);
        if (!TrackRunningStats) return op(x, Weight, Bias, null, null, training: true, 0.1f, Eps);

        // Training changes the layer's state, so it must not run on two threads at once (the updates would be lost).
        if (Interlocked.Exchange(ref _updating, 1) == 1)
            throw new InvalidOperationException(
                $"{GetType().Name}({NumFeatures}): a training-mode forward pass is already running on another thread. Training a model is " +
                "single-threaded (evaluation mode under NoGrad may run concurrently).");
        try
        {
            long batches = NumBatchesTracked!.Int64Data[0] + 1;
            float factor = Momentum ?? 1f / batches;
            Tensor y = op(x, Weight, Bias, RunningMean, RunningVar, training: true, factor, Eps);
            NumBatchesTracked.Int64Data[0] = batches;   // only once the batch was accepted
            return y;
        }
        finally
        {
            Volatile.Write(ref _updating, 0);
        }
    }

    /// <inheritdoc/>
    protected override string Describe() =>
        $"{GetType().Name}({NumFeatures}, eps: {Eps}, momentum: {(Momentum is null ? "null" : Momentum)}, affine: {Affine}, trackRunningStats: {TrackRunningStats})";

    /// <summary>The error for an input that does not fit: names the layer, the expected shape and the actual one.</summary>
    protected ArgumentException ShapeError(string expected, Tensor x) =>
        new($"{GetType().Name}({NumFeatures}) expects input {expected}, got {Shapes.Format(x.Shape)}.", "x");
}

/// <summary>Batch normalization of (N, C) or (N, C, L) input, statistics per feature C over N (and L).</summary>
public sealed class BatchNorm1d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNorm(numFeatures, eps, momentum, affine, trackRunningStats)
{
    /// <inheritdoc/>
    protected override void CheckInput(Tensor x)
    {
        if (x.Rank is not (2 or 3) || x.Shape[1] != NumFeatures)
            throw ShapeError($"(N, {NumFeatures}) or (N, {NumFeatures}, L)", x);
    }
}

/// <summary>Batch normalization of (N, C, H, W) input, statistics per channel over N·H·W (one γ, β per channel).</summary>
public sealed class BatchNorm2d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNorm(numFeatures, eps, momentum, affine, trackRunningStats)
{
    /// <inheritdoc/>
    protected override void CheckInput(Tensor x)
    {
        if (x.Rank != 4 || x.Shape[1] != NumFeatures)
            throw ShapeError($"(N, {NumFeatures}, H, W)", x);
    }
}
