namespace MiniNet.Data;

/// <summary>The step that turns a list of samples into one batch (PyTorch's <c>collate_fn</c>).</summary>
/// <typeparam name="TSample">What the dataset holds per sample.</typeparam>
/// <typeparam name="TBatch">What a batch is.</typeparam>
public interface ICollate<TSample, TBatch>
{
    /// <summary>Assembles samples <paramref name="indices"/> of <paramref name="dataset"/>, in that order, into a batch.</summary>
    /// <param name="dataset">The loader's dataset.</param>
    /// <param name="indices">The dataset indices of the batch's samples.</param>
    /// <param name="reuse">The batch this collate returned for the same loader slot before (default the first time).
    /// A collate may fill it in place and return it when it fits; the loader no longer yields it.</param>
    /// <param name="batch">The loader's seed, the epoch and the batch's index, for seeding random steps.</param>
    TBatch Collate(IDataset<TSample> dataset, ReadOnlySpan<int> indices, TBatch? reuse, BatchInfo batch);
}

/// <summary>Built-in collate steps.</summary>
public static class Collate
{
    /// <summary>A collate from a function of the batch's samples (a new batch each time, as the function makes it).</summary>
    public static ICollate<TSample, TBatch> From<TSample, TBatch>(Func<IReadOnlyList<TSample>, TBatch> collate)
    {
        ArgumentNullException.ThrowIfNull(collate);
        return new FunctionCollate<TSample, TBatch>(collate);
    }

    /// <summary>(features, label) samples into a (B, …) features tensor and B labels, copied in place into reused
    /// buffers; the features optionally go through <paramref name="transform"/> on the way.</summary>
    public static ICollate<(Tensor Features, int Label), (Tensor X, int[] Y)> Labeled(ITransform? transform = null) => new LabeledCollate(transform);

    /// <summary>(features, target) samples into (B, …) features and (B, …) targets tensors, copied in place into reused
    /// buffers; the features optionally go through <paramref name="transform"/> on the way.</summary>
    public static ICollate<(Tensor Features, Tensor Target), (Tensor X, Tensor Y)> Pairs(ITransform? transform = null) => new PairCollate(transform);

    private sealed class FunctionCollate<TSample, TBatch>(Func<IReadOnlyList<TSample>, TBatch> collate) : ICollate<TSample, TBatch>
    {
        public TBatch Collate(IDataset<TSample> dataset, ReadOnlySpan<int> indices, TBatch? reuse, BatchInfo batch)
        {
            var samples = new TSample[indices.Length];
            for (int i = 0; i < samples.Length; i++) samples[i] = dataset[indices[i]];
            return collate(samples);
        }
    }
}

/// <summary>The features' side of the built-in collates: the batch's feature shape, and the transform of each sample
/// from a scratch copy into its row, seeded by (seed, epoch, dataset index) so that a sample's augmentation does not
/// depend on the batch size, the order or the thread.</summary>
internal sealed class FeatureTransform(ITransform? transform)
{
    /// <summary>What a collate knows of a dataset: its sample (and target) shape, read once, and the transformed shape.
    /// Immutable and swapped in whole, so loaders on several threads may share a collate.</summary>
    internal sealed record Bound(object Dataset, int[] SampleShape, int[] OutputShape, int SampleSize, int[] TargetShape);

    private Bound? _bound;

    /// <summary>Whether samples go through a transform (else they are copied straight into their rows).</summary>
    public bool Active => transform is not null;

    /// <summary>The shapes of <paramref name="dataset"/>'s samples, read from it the first time it is seen (a
    /// dataset's <c>SampleShape</c> may go through its indexer, which must not run per batch).</summary>
    public Bound For(ILabeledDataset dataset) =>
        _bound is { } b && ReferenceEquals(b.Dataset, dataset) ? b : Bind(dataset, dataset.SampleShape, []);

    /// <summary>The shapes of a float-target dataset's samples and targets, read once per dataset.</summary>
    public Bound For(ITensorPairDataset dataset) =>
        _bound is { } b && ReferenceEquals(b.Dataset, dataset) ? b : Bind(dataset, dataset.SampleShape, dataset.TargetShape);

    private Bound Bind(object dataset, IReadOnlyList<int> sampleShape, IReadOnlyList<int> targetShape)
    {
        int[] shape = [.. sampleShape];
        var bound = new Bound(dataset, shape, transform is null ? shape : transform.OutputShape(shape), Shapes.Numel(shape), [.. targetShape]);
        _bound = bound;
        return bound;
    }

    /// <summary>Whether <paramref name="known"/> is <paramref name="shape"/> (compared without allocating: this runs per batch).</summary>
    public static bool Same(int[]? known, IReadOnlyList<int> shape)
    {
        if (known is null || known.Length != shape.Count) return false;
        for (int i = 0; i < known.Length; i++)
            if (known[i] != shape[i]) return false;
        return true;
    }

    /// <summary>Transforms sample <paramref name="index"/>'s features <paramref name="input"/> into <paramref name="row"/>.</summary>
    public void Apply(Bound bound, ReadOnlySpan<float> input, Span<float> row, int index, BatchInfo batch)
    {
        var random = SampleRandom.For(batch.Seed, batch.Epoch, index);
        transform!.Apply(input, bound.SampleShape, row, ref random);
    }

    /// <summary>Whether a previous batch buffer <paramref name="x"/> fits <paramref name="size"/> samples of <paramref name="shape"/>.</summary>
    public static bool Fits(Tensor? x, int size, int[] shape)
    {
        if (x is null || x.Rank != shape.Length + 1 || x.Shape[0] != size) return false;
        for (int i = 0; i < shape.Length; i++)
            if (x.Shape[i + 1] != shape[i]) return false;
        return true;
    }
}

internal sealed class LabeledCollate(ITransform? transform) : ICollate<(Tensor Features, int Label), (Tensor X, int[] Y)>
{
    private readonly FeatureTransform _features = new(transform);
    private (IDataset<(Tensor, int)> Source, ILabeledDataset View)? _adapter;

    public (Tensor X, int[] Y) Collate(IDataset<(Tensor Features, int Label)> dataset, ReadOnlySpan<int> indices,
        (Tensor X, int[] Y) reuse, BatchInfo batch)
    {
        ILabeledDataset labeled = dataset as ILabeledDataset ?? Adapt(dataset);
        int size = indices.Length;
        FeatureTransform.Bound bound = _features.For(labeled);
        int[] shape = bound.OutputShape;
        (Tensor x, int[] y) = FeatureTransform.Fits(reuse.X, size, shape) ? reuse : (Tensor.Zeros([size, .. shape]), new int[size]);
        Span<float> data = x.Data;
        int rowSize = data.Length / size;
        if (!_features.Active)
        {
            for (int i = 0; i < size; i++) y[i] = labeled.CopySample(indices[i], data.Slice(i * rowSize, rowSize));
            return (x, y);
        }
        float[] scratch = System.Buffers.ArrayPool<float>.Shared.Rent(bound.SampleSize);
        try
        {
            Span<float> input = scratch.AsSpan(0, bound.SampleSize);
            for (int i = 0; i < size; i++)
            {
                y[i] = labeled.CopySample(indices[i], input);
                _features.Apply(bound, input, data.Slice(i * rowSize, rowSize), indices[i], batch);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(scratch);
        }
        return (x, y);
    }

    private ILabeledDataset Adapt(IDataset<(Tensor Features, int Label)> dataset)
    {
        if (_adapter is not { } a || !ReferenceEquals(a.Source, dataset)) _adapter = a = (dataset, new IndexedDataset(dataset));
        return a.View;
    }
}

internal sealed class PairCollate(ITransform? transform) : ICollate<(Tensor Features, Tensor Target), (Tensor X, Tensor Y)>
{
    private readonly FeatureTransform _features = new(transform);
    private (IDataset<(Tensor, Tensor)> Source, ITensorPairDataset View)? _adapter;

    public (Tensor X, Tensor Y) Collate(IDataset<(Tensor Features, Tensor Target)> dataset, ReadOnlySpan<int> indices,
        (Tensor X, Tensor Y) reuse, BatchInfo batch)
    {
        ITensorPairDataset pairs = dataset as ITensorPairDataset ?? Adapt(dataset);
        int size = indices.Length;
        FeatureTransform.Bound bound = _features.For(pairs);
        int[] shape = bound.OutputShape, targetShape = bound.TargetShape;
        (Tensor x, Tensor y) = FeatureTransform.Fits(reuse.X, size, shape) && FeatureTransform.Fits(reuse.Y, size, targetShape)
            ? reuse : (Tensor.Zeros([size, .. shape]), Tensor.Zeros([size, .. targetShape]));
        Span<float> data = x.Data, targets = y.Data;
        int rowSize = data.Length / size, targetSize = targets.Length / size;
        if (!_features.Active)
        {
            for (int i = 0; i < size; i++)
                pairs.CopySample(indices[i], data.Slice(i * rowSize, rowSize), targets.Slice(i * targetSize, targetSize));
            return (x, y);
        }
        float[] scratch = System.Buffers.ArrayPool<float>.Shared.Rent(bound.SampleSize);
        try
        {
            Span<float> input = scratch.AsSpan(0, bound.SampleSize);
            for (int i = 0; i < size; i++)
            {
                pairs.CopySample(indices[i], input, targets.Slice(i * targetSize, targetSize));
                _features.Apply(bound, input, data.Slice(i * rowSize, rowSize), indices[i], batch);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(scratch);
        }
        return (x, y);
    }

    private ITensorPairDataset Adapt(IDataset<(Tensor Features, Tensor Target)> dataset)
    {
        if (_adapter is not { } a || !ReferenceEquals(a.Source, dataset)) _adapter = a = (dataset, new IndexedPairDataset(dataset));
        return a.View;
    }
}
