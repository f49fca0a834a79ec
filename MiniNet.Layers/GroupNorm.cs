namespace MiniNet.Layers;

/// <summary>Group normalization (PyTorch's GroupNorm): the C channels of (N, C, …) input are split into
/// <see cref="NumGroups"/> groups, each normalised over its channels and every spatial position of one sample, then
/// scaled and shifted per channel. Independent of the batch size, so it serves where per-device batches are small.</summary>
/// <remarks>Composite (Mean, Var and arithmetic), the same in training and evaluation; no running statistics.
/// GroupNorm with one group is LayerNorm over (C, …) with per-channel affine; with C groups it is InstanceNorm.</remarks>
public sealed class GroupNorm : Module
{
    /// <summary>Creates the layer (PyTorch's defaults: ε = 1e-5, affine).</summary>
    /// <exception cref="ArgumentException">The groups do not divide the channels, or a size or ε is not positive.</exception>
    public GroupNorm(int numGroups, int numChannels, float eps = 1e-5f, bool affine = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numGroups);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numChannels);
        if (numChannels % numGroups != 0)
            throw new ArgumentException($"GroupNorm: {numGroups} groups do not divide {numChannels} channels.", nameof(numGroups));
        if (!(eps > 0f)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "GroupNorm: eps must be positive.");
        (NumGroups, NumChannels, Eps) = (numGroups, numChannels, eps);
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(numChannels));
            Bias = RegisterParameter("bias", Tensor.Zeros(numChannels));
        }
    }

    /// <summary>The number of channel groups.</summary>
    public int NumGroups { get; }

    /// <summary>The number of channels C.</summary>
    public int NumChannels { get; }

    /// <summary>ε added to the variance.</summary>
    public float Eps { get; }

    /// <summary>γ per channel (ones), or null without affine parameters.</summary>
    public Parameter? Weight { get; }

    /// <summary>β per channel (zeros), or null without affine parameters.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 2 || x.Shape[1] != NumChannels)
            throw new ArgumentException($"GroupNorm expects x of shape (N, {NumChannels}, …), got {Shapes.Format(x.Shape)}.", nameof(x));
        int[] shape = [.. x.Shape];
        Tensor grouped = x.Reshape(shape[0], NumGroups, -1);
        Tensor centered = grouped - grouped.Mean(2, keepDim: true);
        Tensor y = (centered / (centered.Square().Mean(2, keepDim: true) + Eps).Sqrt()).Reshape(shape);
        return Weight is null ? y : y * PerChannel(Weight, x.Rank) + PerChannel(Bias!, x.Rank);
    }

    /// <summary>A (C) parameter viewed as (1, C, 1, …) to broadcast over (N, C, …).</summary>
    internal static Tensor PerChannel(Tensor p, int rank) => p.Reshape([1, p.Numel, .. Enumerable.Repeat(1, rank - 2)]);

    /// <inheritdoc/>
    protected override string Describe() => $"GroupNorm({NumGroups}, {NumChannels}, eps: {Eps}, affine: {Weight is not null})";
}

/// <summary>Instance normalization (PyTorch's InstanceNorm1d/2d): each channel of each sample normalised over its
/// spatial positions. PyTorch's defaults: no affine parameters, no running statistics; with
/// <c>trackRunningStats</c> training updates running_mean and the unbiased running_var (the batch's average of the
/// per-instance statistics, momentum 0.1) and evaluation normalises with them.</summary>
public abstract class InstanceNorm : Module
{
    private readonly int _spatialDims;

    /// <summary>Creates the layer for inputs (N, C) followed by <paramref name="spatialDims"/> spatial dimensions.</summary>
    protected InstanceNorm(int numFeatures, int spatialDims, float eps, float momentum, bool affine, bool trackRunningStats)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFeatures);
        if (!(eps > 0f)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "InstanceNorm: eps must be positive.");
        if (!(momentum >= 0f && momentum <= 1f)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "InstanceNorm: momentum must be in [0, 1].");
        (NumFeatures, _spatialDims, Eps, Momentum) = (numFeatures, spatialDims, eps, momentum);
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(numFeatures));
            Bias = RegisterParameter("bias", Tensor.Zeros(numFeatures));
        }
        if (trackRunningStats)
        {
            RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures));
            RunningVar = RegisterBuffer("running_var", Tensor.Ones(numFeatures));
            NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros(DType.Int64));
        }
    }

    /// <summary>The number of channels C.</summary>
    public int NumFeatures { get; }
    /// <summary>ε added to the variance.</summary>
    public float Eps { get; }
    /// <summary>The running statistics' update weight.</summary>
    public float Momentum { get; }
    /// <summary>γ per channel, or null without affine parameters.</summary>
    public Parameter? Weight { get; }
    /// <summary>β per channel, or null without affine parameters.</summary>
    public Parameter? Bias { get; }
    /// <summary>The running mean, or null without running statistics.</summary>
    public Tensor? RunningMean { get; }
    /// <summary>The unbiased running variance, or null without running statistics.</summary>
    public Tensor? RunningVar { get; }
    /// <summary>Training batches seen, or null without running statistics.</summary>
    public Tensor? NumBatchesTracked { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int rank = 2 + _spatialDims;
        if (x.Rank != rank || x.Shape[1] != NumFeatures)
            throw new ArgumentException(
                $"{GetType().Name} expects x of shape (N, {NumFeatures}{string.Concat(Enumerable.Repeat(", L", _spatialDims))}), got {Shapes.Format(x.Shape)}.", nameof(x));
        int[] axes = [.. Enumerable.Range(2, _spatialDims)];
        Tensor y;
        if (RunningMean is not null && !Training)
        {
            Tensor mean = GroupNorm.PerChannel(RunningMean, rank), variance = GroupNorm.PerChannel(RunningVar!, rank);
            y = (x - mean) / (variance + Eps).Sqrt();
        }
        else
        {
            // Instance statistics of one value are that value and zero: PyTorch refuses them, and so does this layer.
            if (axes.Aggregate(1, (m, a) => m * x.Shape[a]) == 1)
                throw new ArgumentException(
                    $"{GetType().Name}: expected more than 1 spatial element when normalising with instance statistics, got input of shape {Shapes.Format(x.Shape)}.", nameof(x));
            Tensor centered = x - x.Mean(axes, keepDim: true);
            Tensor biased = centered.Square().Mean(axes, keepDim: true);
            y = centered / (biased + Eps).Sqrt();
            if (RunningMean is not null) UpdateRunningStatistics(x, axes, biased);
        }
        return Weight is null ? y : y * GroupNorm.PerChannel(Weight, rank) + GroupNorm.PerChannel(Bias!, rank);
    }

    private void UpdateRunningStatistics(Tensor x, int[] axes, Tensor biasedVariance)
    {
        int count = axes.Aggregate(1, (m, a) => m * x.Shape[a]);
        using (Autograd.NoGrad())
        {
            float[] mean = x.Mean(axes).Mean(0).ToArray();
            float[] variance = biasedVariance.Mean(axes).Mean(0).Mul(count / (count - 1f)).ToArray();
            Span<float> rm = RunningMean!.Data, rv = RunningVar!.Data;
            for (int c = 0; c < NumFeatures; c++)
            {
                rm[c] = (1 - Momentum) * rm[c] + Momentum * mean[c];
                rv[c] = (1 - Momentum) * rv[c] + Momentum * variance[c];
            }
            NumBatchesTracked!.Int64Data[0]++;
        }
    }

    /// <inheritdoc/>
    protected override string Describe() =>
        $"{GetType().Name}({NumFeatures}, eps: {Eps}, momentum: {Momentum}, affine: {Weight is not null}, trackRunningStats: {RunningMean is not null})";
}

/// <summary>Instance normalization of (N, C, L) input.</summary>
public sealed class InstanceNorm1d(int numFeatures, float eps = 1e-5f, float momentum = 0.1f, bool affine = false, bool trackRunningStats = false)
    : InstanceNorm(numFeatures, 1, eps, momentum, affine, trackRunningStats);

/// <summary>Instance normalization of (N, C, H, W) input.</summary>
public sealed class InstanceNorm2d(int numFeatures, float eps = 1e-5f, float momentum = 0.1f, bool affine = false, bool trackRunningStats = false)
    : InstanceNorm(numFeatures, 2, eps, momentum, affine, trackRunningStats);
