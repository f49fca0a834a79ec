namespace MiniNet.Data;

/// <summary>A dataset of float feature tensors of one shape and integer class labels, which a <see cref="DataLoader"/>
/// copies straight into its batch buffers.</summary>
/// <remarks>Only <see cref="IDataset{T}.Count"/> and the indexer need implementing: the other members default to going
/// through the indexer. A dataset that holds its samples in one array (as <see cref="TensorDataset"/> does) overrides
/// <see cref="CopySample"/> to copy a row without making a tensor per sample.</remarks>
public interface ILabeledDataset : IDataset<(Tensor Features, int Label)>
{
    /// <summary>The shape of every sample's features.</summary>
    IReadOnlyList<int> SampleShape => this[0].Features.Shape;

    /// <summary>Copies sample <paramref name="index"/>'s features into <paramref name="destination"/> (exactly one
    /// sample's worth of values) and returns its label.</summary>
    /// <exception cref="InvalidDataException">The sample's shape differs from <see cref="SampleShape"/>.</exception>
    int CopySample(int index, Span<float> destination)
    {
        (Tensor features, int label) = this[index];
        if (features.Numel != destination.Length || !features.Shape.SequenceEqual(SampleShape))
            throw new InvalidDataException(
                $"DataLoader: sample {index} has shape {Shapes.Format(features.Shape)}, expected {Shapes.Format(SampleShape)}.");
        features.Data.CopyTo(destination);
        return label;
    }
}

/// <summary>Any <see cref="IDataset{T}"/> of (features, label) seen as an <see cref="ILabeledDataset"/>: samples are
/// copied through its indexer.</summary>
internal sealed class IndexedDataset(IDataset<(Tensor Features, int Label)> samples) : ILabeledDataset
{
    private readonly int[] _sampleShape = samples.Count == 0 ? [] : [.. samples[0].Features.Shape];

    public int Count => samples.Count;

    public (Tensor Features, int Label) this[int index] => samples[index];

    public IReadOnlyList<int> SampleShape => _sampleShape;
}
