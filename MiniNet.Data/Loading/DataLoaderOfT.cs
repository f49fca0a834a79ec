using System.Collections;

namespace MiniNet.Data;

/// <summary>Mini-batches over any dataset, assembled by a collate step (PyTorch's <c>DataLoader</c> with a
/// <c>collate_fn</c>), reshuffled every epoch, reproducibly for a seed.</summary>
/// <typeparam name="TSample">What the dataset holds per sample.</typeparam>
/// <typeparam name="TBatch">What a batch is, as the collate makes it.</typeparam>
/// <remarks>
/// <para>Each enumeration is one epoch: every sample appears exactly once (with <c>dropLast</c>, an incomplete final
/// batch is skipped). With <c>shuffle</c>, epoch e uses a permutation drawn from a generator seeded by (seed, e), so a
/// run can resume at any epoch by setting <see cref="Epoch"/>.</para>
/// <para>The loader keeps three batch slots (two used in turn for full batches, one for a smaller final batch) and
/// hands the collate the batch it last returned for the slot, so a collate that fills its buffers in place assembles
/// batches without allocating. <b>A yielded batch is then only valid until the next one is requested</b>: copy it to
/// keep it, and run a batch's backward pass before asking for the next (a graph built on a batch reads its values in
/// backward). With <c>prefetch</c> the next batch is collated on a background task while the current one is used (a
/// small allocation per batch); one collate runs at a time, and one enumeration per loader.</para>
/// </remarks>
public class DataLoader<TSample, TBatch> : IEnumerable<TBatch>
{
    private readonly IDataset<TSample> _dataset;
    private readonly ICollate<TSample, TBatch> _collate;
    private readonly TBatch?[] _slots = new TBatch?[3];
    private readonly int[] _order;
    private readonly int[]? _shardOrder;

    /// <summary>Creates a loader that assembles batches of <paramref name="dataset"/> with <paramref name="collate"/>.</summary>
    /// <param name="shard">This rank's share of every epoch in a distributed job (<see cref="DataShard"/>); null for all samples.</param>
    /// <exception cref="ArgumentException">An empty dataset, a batch size below 1, or a shard outside its world.</exception>
    public DataLoader(IDataset<TSample> dataset, ICollate<TSample, TBatch> collate, int batchSize, bool shuffle = false,
        int seed = 0, bool dropLast = false, bool prefetch = false, DataShard? shard = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(collate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (dataset.Count == 0) throw new ArgumentException("DataLoader: the dataset is empty.", nameof(dataset));
        (_dataset, _collate, BatchSize, Shuffle, Seed, DropLast, Prefetch) = (dataset, collate, batchSize, shuffle, seed, dropLast, prefetch);
        _order = new int[dataset.Count];
        if (shard is { } sh)
        {
            if (sh.Count < 1 || (uint)sh.Rank >= (uint)sh.Count)
                throw new ArgumentException($"DataLoader: shard {sh.Rank} of {sh.Count} is outside its world.", nameof(shard));
            int length = sh.DropTail ? dataset.Count / sh.Count : (dataset.Count + sh.Count - 1) / sh.Count;
            if (length == 0) throw new ArgumentException($"DataLoader: {dataset.Count} samples leave shard {sh.Rank} of {sh.Count} none.", nameof(shard));
            (Shard, _shardOrder) = (sh, new int[length]);
        }
    }

    /// <summary>This rank's share of each epoch, or null for all samples.</summary>
    public DataShard? Shard { get; }

    /// <summary>The dataset the batches come from.</summary>
    public IDataset<TSample> Dataset => _dataset;

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch visits the samples in a new random order.</summary>
    public bool Shuffle { get; }

    /// <summary>The seed of the shuffles (and of the random transforms of the built-in collates).</summary>
    public int Seed { get; }

    /// <summary>Whether an incomplete final batch is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>Whether the next batch is assembled in the background.</summary>
    public bool Prefetch { get; }

    /// <summary>The epoch the next enumeration produces (0 first); set it to resume a run.</summary>
    public int Epoch { get; set; }

    /// <summary>Batches per epoch (of this rank's shard, with one).</summary>
    public int BatchCount => DropLast ? Length / BatchSize : (Length + BatchSize - 1) / BatchSize;

    /// <summary>Samples per epoch (of this rank's shard, with one).</summary>
    public int SampleCount => DropLast ? BatchCount * BatchSize : Length;

    private int Length => _shardOrder?.Length ?? _dataset.Count;

    private int[] Indices => _shardOrder ?? _order;

    /// <summary>Enumerates one epoch and advances <see cref="Epoch"/>.</summary>
    /// <exception cref="InvalidOperationException">(On the first MoveNext) another enumeration of this loader is still
    /// under way: the two would share the order and the batch buffers.</exception>
    public IEnumerator<TBatch> GetEnumerator() => Batches(Epoch++);

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private int _active;

    private IEnumerator<TBatch> Batches(int epoch)
    {
        if (Interlocked.Exchange(ref _active, 1) != 0)
            throw new InvalidOperationException(
                "DataLoader: an epoch is already being enumerated; its batches share this loader's buffers. Finish (or dispose) it first, or use a second loader.");
        Task<TBatch>? next = null;
        try
        {
            for (int i = 0; i < _order.Length; i++) _order[i] = i;
            if (Shuffle) Permute(_order, Rng.Create(MixSeed(Seed, epoch)));
            if (Shard is { } shard)
                // PyTorch's DistributedSampler: the epoch's order, the same on every rank, padded by repeating its
                // beginning (or cut) to a multiple of the ranks; rank r takes every rank-th sample from position r.
                for (int i = 0; i < _shardOrder!.Length; i++) _shardOrder[i] = _order[(shard.Rank + i * shard.Count) % _order.Length];
            int count = BatchCount;
            if (!Prefetch)
            {
                for (int b = 0; b < count; b++) yield return Fill(b, epoch);
                yield break;
            }
            if (count == 0) yield break;
            next = Task.Run(() => Fill(0, epoch));
            for (int b = 0; b < count; b++)
            {
                // The task leaves `next` before it is awaited, so that its failure surfaces once, as itself.
                Task<TBatch> current = next!;
                next = null;
                TBatch batch = current.GetAwaiter().GetResult();
                int following = b + 1;
                if (following < count) next = Task.Run(() => Fill(following, epoch));
                yield return batch;
            }
        }
        finally
        {
            // Never leave a collate running into a slot after the enumeration ends; its outcome no longer matters
            // (the epoch ended early, or with another exception that must not be masked).
            if (next is not null)
                try { next.Wait(); } catch (AggregateException) { }
            Volatile.Write(ref _active, 0);
        }
    }

    /// <summary>Collates batch <paramref name="b"/> of the current order into its slot.</summary>
    private TBatch Fill(int b, int epoch)
    {
        int start = b * BatchSize, size = Math.Min(BatchSize, Length - start);
        int slot = size == Math.Min(BatchSize, Length) ? b % 2 : 2;
        TBatch batch = _collate.Collate(_dataset, Indices.AsSpan(start, size), _slots[slot], new BatchInfo(Seed, epoch, b));
        _slots[slot] = batch;
        return batch;
    }

    private static void Permute(int[] order, System.Random rng)
    {
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    /// <summary>A well-mixed 32-bit seed from (seed, epoch) (SplitMix64's finaliser), so nearby pairs give unrelated shuffles.</summary>
    private static int MixSeed(int seed, int epoch) => (int)SampleRandom.Mix(((ulong)(uint)seed << 32) | (uint)epoch);
}

/// <summary>One rank's share of every epoch in a distributed job (PyTorch's <c>DistributedSampler</c>): disjoint
/// shards of the epoch's order, reshuffled per epoch from (seed, epoch) alike on every rank, each rank the same number
/// of samples (and so of steps): the order is padded by repeating its beginning, or with <paramref name="DropTail"/>
/// cut to a multiple of the ranks.</summary>
/// <param name="Rank">This rank, 0 to <paramref name="Count"/> − 1.</param>
/// <param name="Count">The number of ranks.</param>
/// <param name="DropTail">Cut the order instead of padding it.</param>
public readonly record struct DataShard(int Rank, int Count, bool DropTail = false)
{
    /// <summary>This process's shard of the distributed job (<see cref="Distributed.Rank"/> of
    /// <see cref="Distributed.WorldSize"/>; the whole epoch in a world of one).</summary>
    public static DataShard OfWorld(bool dropTail = false)
    {
        if (!Distributed.IsInitialized) Distributed.Init();
        return new DataShard(Distributed.Rank, Distributed.WorldSize, dropTail);
    }
}

/// <summary>Which batch a collate is assembling: the loader's seed, the epoch and the batch's position in it, from
/// which a collate seeds any randomness (see <see cref="SampleRandom"/>).</summary>
public readonly record struct BatchInfo(int Seed, int Epoch, int Index);
