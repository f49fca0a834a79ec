namespace MiniNet.Layers;

/// <summary>Batch Renormalization (Ioffe, 2017): y = γ·(x̂·r + d) + β with x̂ = (x − μ_B)/σ_B from the mini-batch,
/// r = clip(σ_B/σ, 1/r_max, r_max) and d = clip((μ_B − μ)/σ, −d_max, d_max) from the running μ, σ.</summary>
/// <remarks>
/// <para>r and d are treated as constants (stop-gradient), so the layer trains with batch statistics while its output
/// matches what inference will compute; with r = 1 and d = 0 it is plain batch normalization. r_max ramps linearly
/// from 1 and d_max from 0 to their final values over <see cref="WarmupSteps"/> training batches (the paper starts
/// with plain BN). σ = √(running_var + ε). The running statistics follow BatchNorm's conventions (momentum 0.1,
/// unbiased batch variance). Evaluation uses (x − μ)/σ. Composite: built from ops, so its gradient needs no code
/// of its own.</para>
/// </remarks>
public abstract class BatchRenorm : Module
{
    /// <summary>Shared constructor of <see cref="BatchRenorm1d"/> and <see cref="BatchRenorm2d"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive size or eps, rMax &lt; 1, dMax &lt; 0, momentum outside (0, 1], or negative warm-up.</exception>
    protected BatchRenorm(int numFeatures, float rMax, float dMax, int warmupSteps, float eps, float momentum)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFeatures);
        if (!(rMax >= 1f)) throw new ArgumentOutOfRangeException(nameof(rMax), rMax, "rMax must be at least 1.");
        if (!(dMax >= 0f)) throw new ArgumentOutOfRangeException(nameof(dMax), dMax, "dMax must be non-negative.");
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        if (!(eps > 0f)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be positive.");
        if (!(momentum > 0f && momentum <= 1f)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in (0, 1].");
        (NumFeatures, RMax, DMax, WarmupSteps, Eps, Momentum) = (numFeatures, rMax, dMax, warmupSteps, eps, momentum);
        Weight = RegisterParameter("weight", Tensor.Ones(numFeatures));
        Bias = RegisterParameter("bias", Tensor.Zeros(numFeatures));
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones(numFeatures));
        NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros(DType.Int64));
    }

    /// <summary>Channels C.</summary>
    public int NumFeatures { get; }

    /// <summary>Final bound on r (the paper uses 3).</summary>
    public float RMax { get; }

    /// <summary>Final bound on |d| (the paper uses 5).</summary>
    public float DMax { get; }

    /// <summary>Training batches over which r_max and d_max ramp up.</summary>
    public int WarmupSteps { get; }

    /// <summary>ε added to variances.</summary>
    public float Eps { get; }

    /// <summary>The weight of a new batch in the running statistics.</summary>
    public float Momentum { get; }

    /// <summary>γ (C), ones.</summary>
    public Parameter Weight { get; }

    /// <summary>β (C), zeros.</summary>
    public Parameter Bias { get; }

    /// <summary>Running mean μ (C).</summary>
    public Tensor RunningMean { get; }

    /// <summary>Running unbiased variance (C); σ = √(running_var + ε).</summary>
    public Tensor RunningVar { get; }

    /// <summary>Training batches seen (a rank-0 int64 tensor).</summary>
    public Tensor NumBatchesTracked { get; }

    /// <summary>(r_max, d_max) in force for the next training batch.</summary>
    public (float RMax, float DMax) CurrentBounds
    {
        get
        {
            float ramp = WarmupSteps == 0 ? 1f : Math.Min(1f, NumBatchesTracked.Item() / WarmupSteps);
            return (1f + (RMax - 1f) * ramp, DMax * ramp);
        }
    }

    /// <summary>The axes statistics are taken over, and the shape that broadcasts a (C) vector against the input.</summary>
    protected abstract (int[] Axes, int[] ChannelShape) Layout(Tensor x);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        (int[] axes, int[] channelShape) = Layout(x);
        Tensor gamma = Weight.Reshape(channelShape), beta = Bias.Reshape(channelShape);
        Tensor runningMean = RunningMean.Reshape(channelShape);
        Tensor runningStd = (RunningVar + Eps).Sqrt().Reshape(channelShape);
        if (!Training)
            return (x - runningMean) / runningStd * gamma + beta;

        int m = x.Numel / NumFeatures;
        if (m <= 1)
            throw new ArgumentException($"{GetType().Name}: expected more than 1 value per channel when training, got input of shape {Shapes.Format(x.Shape)}.", nameof(x));
        Tensor mean = x.Mean(axes, keepDim: true);
        Tensor variance = x.Var(axes, unbiased: false, keepDim: true);
        Tensor std = (variance + Eps).Sqrt();
        Tensor xhat = (x - mean) / std;

        // r and d: computed without a graph (stop-gradient), clipped to the current bounds.
        (float rMax, float dMax) = CurrentBounds;
        Tensor r, d;
        using (Autograd.NoGrad())
        {
            r = Clip(std / runningStd, 1f / rMax, rMax);
            d = Clip((mean - runningMean) / runningStd, -dMax, dMax);
            UpdateRunningStatistics(mean, variance, m);
        }
        return (xhat * r + d) * gamma + beta;
    }

    private void UpdateRunningStatistics(Tensor mean, Tensor variance, int m)
    {
        Span<float> rm = RunningMean.Data, rv = RunningVar.Data;
        ReadOnlySpan<float> mu = mean.Data, v = variance.Data;
        for (int c = 0; c < NumFeatures; c++)
        {
            rm[c] = (1f - Momentum) * rm[c] + Momentum * mu[c];
            rv[c] = (1f - Momentum) * rv[c] + Momentum * v[c] * m / (m - 1f);
        }
        NumBatchesTracked.Int64Data[0]++;
    }

    private static Tensor Clip(Tensor t, float low, float high)
    {
        Tensor result = t.Clone();
        Span<float> data = result.Data;
        for (int i = 0; i < data.Length; i++) data[i] = Math.Clamp(data[i], low, high);
        return result;
    }

    /// <inheritdoc/>
    protected override string Describe() => $"{GetType().Name}({NumFeatures}, rMax: {RMax}, dMax: {DMax}, warmupSteps: {WarmupSteps})";
}

/// <summary>Batch Renormalization of (N, C) or (N, C, L) input.</summary>
public sealed class BatchRenorm1d(int numFeatures, float rMax = 3f, float dMax = 5f, int warmupSteps = 5000, float eps = 1e-5f, float momentum = 0.1f)
    : BatchRenorm(numFeatures, rMax, dMax, warmupSteps, eps, momentum)
{
    /// <inheritdoc/>
    protected override (int[] Axes, int[] ChannelShape) Layout(Tensor x)
    {
        if (x.Rank is not (2 or 3) || x.Shape[1] != NumFeatures)
            throw new ArgumentException($"BatchRenorm1d({NumFeatures}) expects input (N, {NumFeatures}) or (N, {NumFeatures}, L), got {Shapes.Format(x.Shape)}.", nameof(x));
        return x.Rank == 2 ? ([0], [1, NumFeatures]) : ([0, 2], [1, NumFeatures, 1]);
    }
}

/// <summary>Batch Renormalization of (N, C, H, W) input, statistics per channel over N·H·W.</summary>
public sealed class BatchRenorm2d(int numFeatures, float rMax = 3f, float dMax = 5f, int warmupSteps = 5000, float eps = 1e-5f, float momentum = 0.1f)
    : BatchRenorm(numFeatures, rMax, dMax, warmupSteps, eps, momentum)
{
    /// <inheritdoc/>
    protected override (int[] Axes, int[] ChannelShape) Layout(Tensor x)
    {
        if (x.Rank != 4 || x.Shape[1] != NumFeatures)
            throw new ArgumentException($"BatchRenorm2d({NumFeatures}) expects input (N, {NumFeatures}, H, W), got {Shapes.Format(x.Shape)}.", nameof(x));
        return ([0, 2, 3], [1, NumFeatures, 1, 1]);
    }
}
