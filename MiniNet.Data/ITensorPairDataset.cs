namespace MiniNet.Data;

/// <summary>A dataset of float feature tensors and float target tensors, each of one shape (regression, multi-output
/// or soft targets), which a loader copies straight into its batch buffers (see <see cref="DataLoader.Create(IDataset{ValueTuple{Tensor, Tensor}}, int, bool, int, bool, bool, ITransform?, DataShard?)"/>).</summary>
/// <remarks>Only <see cref="IDataset{T}.Count"/> and the indexer need implementing: the other members default to going
/// through the indexer. A dataset that holds its samples in arrays (as <see cref="TensorPairDataset"/> does) overrides
/// <see cref="CopySample"/> to copy rows without making tensors per sample.</remarks>
public interface ITensorPairDataset : IDataset<(Tensor Features, Tensor Target)>
{
    /// <summary>The shape of every sample's features.</summary>
    IReadOnlyList<int> SampleShape => this[0].Features.Shape;

    /// <summary>The shape of every sample's target.</summary>
    IReadOnlyList<int> TargetShape => this[0].Target.Shape;

    /// <summary>Copies sample <paramref name="index"/>'s features and target into the destinations (exactly one
    /// sample's worth of values each).</summary>
    /// <exception cref="InvalidDataException">The sample's shapes differ from <see cref="SampleShape"/> or <see cref="TargetShape"/>.</exception>
    void CopySample(int index, Span<float> features, Span<float> target)
    {
        (Tensor x, Tensor y) = this[index];
        if (x.Numel != features.Length || y.Numel != target.Length || !x.Shape.SequenceEqual(SampleShape) || !y.Shape.SequenceEqual(TargetShape))
            throw new InvalidDataException(
                $"DataLoader: sample {index} has features {Shapes.Format(x.Shape)} and target {Shapes.Format(y.Shape)}, " +
                $"expected {Shapes.Format(SampleShape)} and {Shapes.Format(TargetShape)}.");
        x.Data.CopyTo(features);
        y.Data.CopyTo(target);
    }
}

/// <summary>Any <see cref="IDataset{T}"/> of (features, target) tensors seen as an <see cref="ITensorPairDataset"/>:
/// samples are copied through its indexer.</summary>
internal sealed class IndexedPairDataset(IDataset<(Tensor Features, Tensor Target)> samples) : ITensorPairDataset
{
    private readonly int[] _sampleShape = samples.Count == 0 ? [] : [.. samples[0].Features.Shape];
    private readonly int[] _targetShape = samples.Count == 0 ? [] : [.. samples[0].Target.Shape];

    public int Count => samples.Count;

    public (Tensor Features, Tensor Target) this[int index] => samples[index];

    public IReadOnlyList<int> SampleShape => _sampleShape;

    public IReadOnlyList<int> TargetShape => _targetShape;
}

/// <summary>Samples held in memory: a features tensor (N, …) and a targets tensor (N, …) of floats (PyTorch's
/// <c>TensorDataset(x, y)</c> with float targets).</summary>
/// <remarks>Loaders copy rows straight out of both tensors into their batch buffers. The indexer (for inspection)
/// returns copies of one row of each.</remarks>
public sealed class TensorPairDataset : ITensorPairDataset
{
    private readonly int[] _sampleShape, _targetShape;

    /// <summary>Wraps <paramref name="features"/> and <paramref name="targets"/> (not copied).</summary>
    /// <param name="features">(N, …): one row per sample.</param>
    /// <param name="targets">(N, …): one row per sample; (N) gives each sample a scalar target.</param>
    /// <param name="targetNames">Optional names of the target columns (e.g. from a CSV header).</param>
    /// <exception cref="ArgumentException">Rank 0 tensors, tensors other than float32, or different sample counts.</exception>
    public TensorPairDataset(Tensor features, Tensor targets, IReadOnlyList<string>? targetNames = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (features.Rank < 1 || targets.Rank < 1)
            throw new ArgumentException(
                $"TensorPairDataset: features {Shapes.Format(features.Shape)} and targets {Shapes.Format(targets.Shape)} both need a leading sample dimension (N, …).");
        if (features.DType != DType.Float32 || targets.DType != DType.Float32)
            throw new ArgumentException($"TensorPairDataset: features ({features.DType}) and targets ({targets.DType}) must be float32.");
        if (features.Shape[0] != targets.Shape[0])
            throw new ArgumentException(
                $"TensorPairDataset: features {Shapes.Format(features.Shape)} hold {features.Shape[0]} samples but targets {Shapes.Format(targets.Shape)} hold {targets.Shape[0]}.",
                nameof(targets));
        (Features, Targets, TargetNames) = (features, targets, targetNames);
        _sampleShape = [.. features.Shape.Skip(1)];
        _targetShape = [.. targets.Shape.Skip(1)];
        SampleSize = Shapes.Numel(_sampleShape);
        TargetSize = Shapes.Numel(_targetShape);
    }

    /// <summary>A dataset holding copies of every sample of <paramref name="source"/> (a subset or a split, say) in
    /// two tensors, for what needs whole tensors: fitting a <see cref="Normalization"/>, or evaluating in one batch.</summary>
    /// <exception cref="ArgumentException">An empty source.</exception>
    public static TensorPairDataset CopyOf(ITensorPairDataset source, IReadOnlyList<string>? targetNames = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Count == 0) throw new ArgumentException("TensorPairDataset.CopyOf: the source holds no samples.", nameof(source));
        int[] sampleShape = [.. source.SampleShape], targetShape = [.. source.TargetShape];
        int sampleSize = Shapes.Numel(sampleShape), targetSize = Shapes.Numel(targetShape);
        var features = new float[(long)source.Count * sampleSize];
        var targets = new float[(long)source.Count * targetSize];
        for (int i = 0; i < source.Count; i++)
            source.CopySample(i, features.AsSpan(i * sampleSize, sampleSize), targets.AsSpan(i * targetSize, targetSize));
        return new TensorPairDataset(Tensor.Wrap(features, [source.Count, .. sampleShape]), Tensor.Wrap(targets, [source.Count, .. targetShape]),
            targetNames ?? (source as TensorPairDataset)?.TargetNames);
    }

    /// <summary>All features, (N, …).</summary>
    public Tensor Features { get; }

    /// <summary>All targets, (N, …).</summary>
    public Tensor Targets { get; }

    /// <summary>Names of the targets, when known.</summary>
    public IReadOnlyList<string>? TargetNames { get; }

    /// <inheritdoc/>
    public IReadOnlyList<int> SampleShape => _sampleShape;

    /// <inheritdoc/>
    public IReadOnlyList<int> TargetShape => _targetShape;

    /// <summary>Elements per sample's features.</summary>
    public int SampleSize { get; }

    /// <summary>Elements per sample's target.</summary>
    public int TargetSize { get; }

    /// <inheritdoc/>
    public int Count => Features.Shape[0];

    /// <inheritdoc/>
    public (Tensor Features, Tensor Target) this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return (Tensor.FromArray(Row(index).ToArray(), _sampleShape), Tensor.FromArray(TargetRow(index).ToArray(), _targetShape));
        }
    }

    /// <inheritdoc/>
    public void CopySample(int index, Span<float> features, Span<float> target)
    {
        if (features.Length != SampleSize || target.Length != TargetSize)
            throw new ArgumentException(
                $"TensorPairDataset.CopySample: {features.Length} and {target.Length} values for features {Shapes.Format(_sampleShape)} and target {Shapes.Format(_targetShape)}.");
        Row(index).CopyTo(features);
        TargetRow(index).CopyTo(target);
    }

    /// <summary>The features of sample <paramref name="index"/>, without copying.</summary>
    public ReadOnlySpan<float> Row(int index) => Features.Data.Slice(index * SampleSize, SampleSize);

    /// <summary>The target of sample <paramref name="index"/>, without copying.</summary>
    public ReadOnlySpan<float> TargetRow(int index) => Targets.Data.Slice(index * TargetSize, TargetSize);
}
