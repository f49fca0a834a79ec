namespace MiniNet.Data;

/// <summary>Mini-batches (X, Y) of class-labelled samples: a (B, …) features tensor and B labels, reshuffled every
/// epoch, reproducibly for a seed.</summary>
/// <remarks>
/// <para>Samples are copied straight into two batch buffers used in turn (plus one for a smaller final batch), made on
/// the first epoch, through <see cref="ILabeledDataset.CopySample"/>, so batches are assembled without allocating per
/// sample (or, without prefetch, per batch). <b>A yielded batch is only valid until the next one is requested</b>: copy it
/// (<see cref="Tensor.Clone"/>) to keep it. With <c>prefetch</c> the next batch is assembled on a background thread
/// while the current one is used, random transforms included.</para>
/// <para>For other kinds of samples see <see cref="DataLoader{TSample, TBatch}"/> and the <c>Create</c> factories:
/// float targets (<see cref="ITensorPairDataset"/>) or any collate step.</para>
/// </remarks>
public sealed class DataLoader : DataLoader<(Tensor Features, int Label), (Tensor X, int[] Y)>
{
    /// <summary>Creates a loader over a dataset whose samples it copies into its batch buffers (<see cref="ILabeledDataset.CopySample"/>).</summary>
    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="shuffle">Whether each epoch visits the samples in a new random order.</param>
    /// <param name="seed">The seed of the shuffles and of <paramref name="transform"/>'s randomness.</param>
    /// <param name="dropLast">Whether an incomplete final batch is skipped.</param>
    /// <param name="prefetch">Whether the next batch is assembled in the background.</param>
    /// <param name="transform">Applied to each sample's features on the way into the batch (augmentation,
    /// normalisation); seeded by (seed, epoch, sample index).</param>
    /// <exception cref="ArgumentException">An empty dataset, a batch size below 1, or samples the transform cannot take.</exception>
    /// <param name="shard">This rank's share of each epoch in a distributed job (<see cref="DataShard.OfWorld"/>).</param>
    public DataLoader(ILabeledDataset dataset, int batchSize, bool shuffle = false, int seed = 0, bool dropLast = false,
        bool prefetch = false, ITransform? transform = null, DataShard? shard = null)
        : base(dataset, Checked(transform, dataset), batchSize, shuffle, seed, dropLast, prefetch, shard) { }

    /// <summary>Creates a loader over any dataset of (features, label) pairs; each sample's tensor is copied into the batch.</summary>
    /// <exception cref="ArgumentException">An empty dataset, or a batch size below 1.</exception>
    public DataLoader(IDataset<(Tensor Features, int Label)> dataset, int batchSize, bool shuffle = false, int seed = 0,
        bool dropLast = false, bool prefetch = false, ITransform? transform = null, DataShard? shard = null)
        : this(dataset as ILabeledDataset ?? new IndexedDataset(dataset ?? throw new ArgumentNullException(nameof(dataset))),
            batchSize, shuffle, seed, dropLast, prefetch, transform, shard) { }

    /// <summary>A loader of (X, Y) batches of float features and float targets (regression, multi-output, soft
    /// labels), assembled as fast as class-labelled ones; the same options as the labelled loader.</summary>
    /// <exception cref="ArgumentException">An empty dataset, a batch size below 1, or samples the transform cannot take.</exception>
    public static DataLoader<(Tensor Features, Tensor Target), (Tensor X, Tensor Y)> Create(IDataset<(Tensor Features, Tensor Target)> dataset,
        int batchSize, bool shuffle = false, int seed = 0, bool dropLast = false, bool prefetch = false, ITransform? transform = null,
        DataShard? shard = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ITensorPairDataset pairs = dataset as ITensorPairDataset ?? new IndexedPairDataset(dataset);
        if (pairs.Count > 0 && transform is not null) transform.OutputShape([.. pairs.SampleShape]);
        return new(pairs, Collate.Pairs(transform), batchSize, shuffle, seed, dropLast, prefetch, shard);
    }

    /// <summary>A loader of batches made by <paramref name="collate"/> from each batch's samples (PyTorch's
    /// <c>collate_fn</c>): any kind of sample and batch.</summary>
    /// <exception cref="ArgumentException">An empty dataset, or a batch size below 1.</exception>
    public static DataLoader<TSample, TBatch> Create<TSample, TBatch>(IDataset<TSample> dataset, Func<IReadOnlyList<TSample>, TBatch> collate,
        int batchSize, bool shuffle = false, int seed = 0, bool dropLast = false, bool prefetch = false) =>
        new(dataset, Collate.From(collate), batchSize, shuffle, seed, dropLast, prefetch);

    /// <summary>The labelled collate, with the transform checked against the samples now rather than at the first batch.</summary>
    private static ICollate<(Tensor Features, int Label), (Tensor X, int[] Y)> Checked(ITransform? transform, ILabeledDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Count > 0 && transform is not null) transform.OutputShape([.. dataset.SampleShape]);
        return Collate.Labeled(transform);
    }
}
