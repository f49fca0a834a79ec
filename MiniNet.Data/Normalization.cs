namespace MiniNet.Data;

/// <summary>Per-channel standardisation, x' = (x − mean_c)/std_c, with statistics computed on a training set.</summary>
/// <remarks>Channels are dimension 1 of (N, C, …) features: one per feature for (N, F), one per colour channel for images.
/// The standard deviation is the population one; a constant channel gets std 1 (it is only centred).</remarks>
public sealed class Normalization
{
    private readonly float[] _mean, _std;

    /// <summary>Uses the given per-channel statistics.</summary>
    /// <exception cref="ArgumentException">Lengths differ, or a std is not positive.</exception>
    public Normalization(float[] mean, float[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length != std.Length || mean.Length == 0)
            throw new ArgumentException($"Normalization: {mean.Length} means and {std.Length} standard deviations.", nameof(std));
        if (std.Any(s => !(s > 0f))) throw new ArgumentException("Normalization: every std must be positive.", nameof(std));
        (_mean, _std) = ((float[])mean.Clone(), (float[])std.Clone());
    }

    /// <summary>Per-channel means.</summary>
    public IReadOnlyList<float> Mean => _mean;

    /// <summary>Per-channel standard deviations.</summary>
    public IReadOnlyList<float> Std => _std;

    /// <summary>Computes per-channel mean and std over every sample and position of <paramref name="data"/> (in double).</summary>
    public static Normalization Fit(TensorDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Fit(data.Features);
    }

    /// <summary>Computes per-channel mean and std over the features of a dataset with float targets (a subset or a
    /// split too, such as the training part of <see cref="Datasets.RandomSplit(ITensorPairDataset, IReadOnlyList{double}, int)"/>).</summary>
    public static Normalization Fit(ITensorPairDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Fit((data as TensorPairDataset ?? TensorPairDataset.CopyOf(data)).Features);
    }

    /// <summary>Computes per-channel mean and std over every sample and position of (N, C, …) <paramref name="features"/> (in double).</summary>
    /// <exception cref="ArgumentException">Features of rank below 2.</exception>
    public static Normalization Fit(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        (int channels, int inner) = Layout(features);
        var sum = new double[channels];
        var squares = new double[channels];
        ReadOnlySpan<float> x = features.Data;
        for (int offset = 0; offset < x.Length; offset += inner)
        {
            int c = offset / inner % channels;
            foreach (float v in x.Slice(offset, inner)) { sum[c] += v; squares[c] += (double)v * v; }
        }
        long count = (long)features.Shape[0] * inner;
        var mean = new float[channels];
        var std = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double mu = sum[c] / count, variance = Math.Max(squares[c] / count - mu * mu, 0);
            mean[c] = (float)mu;
            std[c] = variance > 1e-12 ? (float)Math.Sqrt(variance) : 1f;
        }
        return new Normalization(mean, std);
    }

    /// <summary>A new dataset with standardised features (labels and classes shared).</summary>
    /// <exception cref="ArgumentException">The data's channel count differs from the fitted one.</exception>
    public TensorDataset Apply(TensorDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new TensorDataset(Apply(data.Features), [.. data.Labels], data.Classes);
    }

    /// <summary>A new dataset with standardised features (targets shared).</summary>
    /// <exception cref="ArgumentException">The data's channel count differs from the fitted one.</exception>
    public TensorPairDataset Apply(TensorPairDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new TensorPairDataset(Apply(data.Features), data.Targets, data.TargetNames);
    }

    /// <summary>The same standardisation applied per sample in a loader (<c>DataLoader(…, transform: …)</c>), for
    /// data too large to standardise ahead or composed with augmentation.</summary>
    public Transforms.Normalize Transform() => new(_mean, _std);

    /// <summary>Standardised copy of (N, C, …) <paramref name="features"/>.</summary>
    /// <exception cref="ArgumentException">The features' channel count differs from the fitted one.</exception>
    public Tensor Apply(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        (int channels, int inner) = Layout(features);
        if (channels != _mean.Length)
            throw new ArgumentException($"Normalization: fitted on {_mean.Length} channels, data {Shapes.Format(features.Shape)} has {channels}.", nameof(features));
        Tensor result = features.Clone();
        Span<float> x = result.Data;
        for (int offset = 0; offset < x.Length; offset += inner)
        {
            int c = offset / inner % channels;
            Span<float> run = x.Slice(offset, inner);
            float mu = _mean[c], inv = 1f / _std[c];
            for (int i = 0; i < run.Length; i++) run[i] = (run[i] - mu) * inv;
        }
        return result;
    }

    private static (int Channels, int Inner) Layout(Tensor features)
    {
        if (features.Rank < 2) throw new ArgumentException($"Normalization: features need shape (N, C, …), got {Shapes.Format(features.Shape)}.", nameof(features));
        return (features.Shape[1], Shapes.Numel(features.Shape.Skip(2).ToArray()));
    }
}
