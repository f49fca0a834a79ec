namespace MiniNet.Layers;

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
            NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Scalar(0f));
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

    /// <summary>The number of training batches seen (a one-element tensor); null without running statistics.</summary>
    public Tensor? NumBatchesTracked { get; }

    /// <summary>When set, forward passes normalise with batch statistics, report them here, and change no state
    /// (used by <see cref="BatchNormStatistics"/>).</summary>
    internal BatchStatisticsObserver? StatisticsObserver { get; set; }

    /// <summary>Throws when x's rank or channel count does not fit the layer.</summary>
    protected abstract void CheckInput(Tensor x);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => Normalize(x, relu: false);

    /// <summary><c>ReLU(Forward(x))</c> as one op (<see cref="Ops.BatchNormRelu"/>); used by <see cref="Sequential"/>
    /// for a BatchNorm followed by a ReLU.</summary>
    internal Tensor ForwardWithRelu(Tensor x) => Normalize(x, relu: true);

    private Tensor Normalize(Tensor x, bool relu)
    {
        ArgumentNullException.ThrowIfNull(x);
        CheckInput(x);
        if (NormalizesWithRunningStatistics)
            return Op(x, RunningMean, RunningVar, training: false, 0.1f, null, relu);
        if (StatisticsObserver is not null)
            return Op(x, null, null, training: true, 0.1f, StatisticsObserver, relu);
        if (!TrackRunningStats)
            return Op(x, null, null, training: true, 0.1f, null, relu);

        float batches = NumBatchesTracked!.Data[0] + 1f;
        float factor = Momentum ?? 1f / batches;
        Tensor y = Op(x, RunningMean, RunningVar, training: true, factor, null, relu);
        NumBatchesTracked.Data[0] = batches;   // only once the batch was accepted
        return y;
    }

    private Tensor Op(Tensor x, Tensor? runningMean, Tensor? runningVar, bool training, float factor, BatchStatisticsObserver? observer, bool relu) =>
        relu
            ? x.BatchNormRelu(Weight, Bias, runningMean, runningVar, training, factor, Eps, observer)
            : x.BatchNorm(Weight, Bias, runningMean, runningVar, training, factor, Eps, observer);

    /// <summary>True when <see cref="Forward"/> uses the running statistics (evaluation mode, running statistics tracked,
    /// no statistics observer): the output is then a fixed per-feature affine map of the input.</summary>
    internal bool NormalizesWithRunningStatistics => !Training && TrackRunningStats && StatisticsObserver is null;

    /// <summary>The per-feature affine map y = x·scale + shift that this layer applies in evaluation mode:
    /// scale = γ/√(running σ² + ε), shift = β − running μ·scale.</summary>
    /// <returns>False when evaluation does not use the running statistics (training mode, no running statistics, or a
    /// statistics observer attached): then the output depends on the batch and no such map exists.</returns>
    public bool TryGetInferenceAffine(Span<float> scale, Span<float> shift)
    {
        if (scale.Length != NumFeatures || shift.Length != NumFeatures)
            throw new ArgumentException(
                $"{GetType().Name}({NumFeatures}).TryGetInferenceAffine: scale and shift need {NumFeatures} values, got {scale.Length} and {shift.Length}.");
        if (!NormalizesWithRunningStatistics) return false;
        ReadOnlySpan<float> mean = RunningMean!.Data, variance = RunningVar!.Data;
        for (int j = 0; j < NumFeatures; j++)
        {
            // The same rounding as the evaluation-mode op: 1/σ in double, then γ·(1/σ) in float.
            float invStd = (float)(1.0 / Math.Sqrt(variance[j] + (double)Eps));
            float gamma = Weight is null ? 1f : Weight.Data[j];
            scale[j] = gamma * invStd;
            shift[j] = (Bias is null ? 0f : Bias.Data[j]) - mean[j] * scale[j];
        }
        return true;
    }

    /// <inheritdoc/>
    protected override string Describe() =>
        $"{GetType().Name}({NumFeatures}, eps: {Eps}, momentum: {(Momentum is null ? "null" : Momentum)}, affine: {Affine}, trackRunningStats: {TrackRunningStats})";

    /// <summary>The error for an input that does not fit: names the layer, the expected shape and the actual one.</summary>
    protected ArgumentException ShapeError(string expected, Tensor x) =>
        new($"{GetType().Name}({NumFeatures}) expects input {expected}, got {Shapes.Format(x.Shape)}.");
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
