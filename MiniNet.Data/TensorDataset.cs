namespace MiniNet.Data;

/// <summary>Samples held in memory: a features tensor (N, …) and N integer class labels.</summary>
/// <remarks><see cref="DataLoader"/> copies rows straight out of <see cref="Features"/> into its batch buffers, so
/// batches are assembled without allocating per sample. The indexer (for inspection) returns a copy of one row.</remarks>
public sealed class TensorDataset : ILabeledDataset
{
    private readonly int[] _labels;
    private readonly int[] _sampleShape;

    /// <summary>Wraps <paramref name="features"/> (not copied) and <paramref name="labels"/>.</summary>
    /// <param name="features">(N, …): one row per sample.</param>
    /// <param name="labels">N labels.</param>
    /// <param name="classes">Optional class names, indexed by label.</param>
    /// <exception cref="ArgumentException">Rank 0 features, or a label count other than N.</exception>
    public TensorDataset(Tensor features, int[] labels, IReadOnlyList<string>? classes = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.Rank < 1) throw new ArgumentException("TensorDataset: features need a leading sample dimension (N, …).", nameof(features));
        if (labels.Length != features.Shape[0])
            throw new ArgumentException(
                $"TensorDataset: features {Shapes.Format(features.Shape)} hold {features.Shape[0]} samples but there are {labels.Length} labels.", nameof(labels));
        Features = features;
        _labels = labels;
        _sampleShape = features.Shape.Skip(1).ToArray();
        SampleSize = Shapes.Numel(_sampleShape);
        Classes = classes;
    }

    /// <summary>All features, (N, …).</summary>
    public Tensor Features { get; }

    /// <summary>All labels.</summary>
    public IReadOnlyList<int> Labels => _labels;

    /// <summary>Class names by label, when known.</summary>
    public IReadOnlyList<string>? Classes { get; }

    /// <summary>The shape of one sample (the features' shape without N).</summary>
    public IReadOnlyList<int> SampleShape => _sampleShape;

    /// <summary>Elements per sample.</summary>
    public int SampleSize { get; }

    /// <inheritdoc/>
    public int Count => _labels.Length;

    /// <inheritdoc/>
    public (Tensor Features, int Label) this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return (Tensor.FromArray(Row(index).ToArray(), _sampleShape), _labels[index]);
        }
    }

    /// <summary>Copies row <paramref name="index"/> of <see cref="Features"/> into <paramref name="destination"/>; returns its label.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> does not hold one sample.</exception>
    public int CopySample(int index, Span<float> destination)
    {
        if (destination.Length != SampleSize)
            throw new ArgumentException($"TensorDataset.CopySample: {destination.Length} values for a sample of shape {Shapes.Format(_sampleShape)}.", nameof(destination));
        Row(index).CopyTo(destination);
        return _labels[index];
    }

    /// <summary>The features of sample <paramref name="index"/>, without copying.</summary>
    public ReadOnlySpan<float> Row(int index) => Features.Data.Slice(index * SampleSize, SampleSize);

    /// <summary>The first <paramref name="count"/> samples (copied), e.g. for a quick run on part of a data set.</summary>
    public TensorDataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        count = Math.Min(count, Count);
        var features = Tensor.FromArray(Features.Data[..(count * SampleSize)].ToArray(), [count, .. _sampleShape]);
        return new TensorDataset(features, _labels[..count], Classes);
    }
}
