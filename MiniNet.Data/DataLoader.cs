using System.Collections;

namespace MiniNet.Data;

/// <summary>Mini-batches (X, Y) over a labelled dataset, reshuffled every epoch, reproducibly for a seed.</summary>
/// <remarks>
/// <para>Each enumeration is one epoch: every sample appears exactly once (with <c>dropLast</c>, an incomplete final
/// batch is skipped). With <c>shuffle</c>, epoch e uses a permutation drawn from a generator seeded by (seed, e), so a
/// run can resume at any epoch by setting <see cref="Epoch"/>.</para>
/// <para>Batches are assembled into two preallocated batch buffers used in turn (plus one for a smaller final batch),
/// so batches are assembled without allocating per sample (or, without prefetch, per batch). <b>A yielded batch is only valid until the next one is
/// requested</b>: copy it (<see cref="Tensor.Clone"/>) to keep it. With <c>prefetch</c> the next batch is assembled on a
/// background thread while the current one is used.</para>
/// </remarks>
public sealed class DataLoader : IEnumerable<(Tensor X, int[] Y)>
{
    private readonly ILabeledDataset _dataset;
    private readonly int[] _sampleShape;
    private readonly (Tensor X, int[] Y)[] _buffers;
    private (Tensor X, int[] Y)? _tail;
    private readonly int[] _order;

    /// <summary>Creates a loader over a dataset whose samples it copies into its batch buffers (<see cref="ILabeledDataset.CopySample"/>).</summary>
    /// <exception cref="ArgumentException">An empty dataset, or a batch size below 1.</exception>
    public DataLoader(ILabeledDataset dataset, int batchSize, bool shuffle = false, int seed = 0, bool dropLast = false, bool prefetch = false)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (dataset.Count == 0) throw new ArgumentException("DataLoader: the dataset is empty.", nameof(dataset));
        (_dataset, BatchSize, Shuffle, Seed, DropLast, Prefetch) = (dataset, batchSize, shuffle, seed, dropLast, prefetch);
        _sampleShape = [.. dataset.SampleShape];
        int full = Math.Min(batchSize, dataset.Count);
        _buffers = [(Tensor.Zeros([full, .. _sampleShape]), new int[full]), (Tensor.Zeros([full, .. _sampleShape]), new int[full])];
        _order = new int[dataset.Count];
    }

    /// <summary>Creates a loader over any dataset of (features, label) pairs; each sample's tensor is copied into the batch.</summary>
    /// <exception cref="ArgumentException">An empty dataset, or a batch size below 1.</exception>
    public DataLoader(IDataset<(Tensor Features, int Label)> dataset, int batchSize, bool shuffle = false, int seed = 0,
        bool dropLast = false, bool prefetch = false)
        : this(dataset as ILabeledDataset ?? new IndexedDataset(dataset ?? throw new ArgumentNullException(nameof(dataset))),
            batchSize, shuffle, seed, dropLast, prefetch) { }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch visits the samples in a new random order.</summary>
    public bool Shuffle { get; }

    /// <summary>The seed of the shuffles.</summary>
    public int Seed { get; }

    /// <summary>Whether an incomplete final batch is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>Whether the next batch is assembled in the background.</summary>
    public bool Prefetch { get; }

    /// <summary>The epoch the next enumeration produces (0 first); set it to resume a run.</summary>
    public int Epoch { get; set; }

    /// <summary>Batches per epoch.</summary>
    public int BatchCount => DropLast ? _dataset.Count / BatchSize : (_dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>Samples per epoch.</summary>
    public int SampleCount => DropLast ? BatchCount * BatchSize : _dataset.Count;

    /// <summary>Enumerates one epoch and advances <see cref="Epoch"/>.</summary>
    public IEnumerator<(Tensor X, int[] Y)> GetEnumerator()
    {
        int epoch = Epoch++;
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        if (Shuffle) Permute(_order, Rng.Create(MixSeed(Seed, epoch)));
        return Batches();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private IEnumerator<(Tensor X, int[] Y)> Batches()
    {
        int count = BatchCount;
        if (!Prefetch)
        {
            for (int b = 0; b < count; b++) yield return Fill(b);
            yield break;
        }
        Task<(Tensor X, int[] Y)>? next = Task.Run(() => Fill(0));
        try
        {
            for (int b = 0; b < count; b++)
            {
                (Tensor X, int[] Y) batch = next!.GetAwaiter().GetResult();
                int following = b + 1;
                next = following < count ? Task.Run(() => Fill(following)) : null;
                yield return batch;
            }
        }
        finally
        {
            next?.Wait();   // never leave a fill running into a buffer after the enumeration ends
        }
    }

    /// <summary>Copies batch <paramref name="b"/> of the current order into its buffer.</summary>
    private (Tensor X, int[] Y) Fill(int b)
    {
        int start = b * BatchSize, size = Math.Min(BatchSize, _dataset.Count - start);
        (Tensor X, int[] Y) buffer = size == _buffers[0].Y.Length ? _buffers[b % 2]
            : _tail ??= (Tensor.Zeros([size, .. _sampleShape]), new int[size]);
        Span<float> x = buffer.X.Data;
        int sampleSize = x.Length / size;
        for (int i = 0; i < size; i++) buffer.Y[i] = _dataset.CopySample(_order[start + i], x.Slice(i * sampleSize, sampleSize));
        return buffer;
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
    private static int MixSeed(int seed, int epoch)
    {
        ulong z = ((ulong)(uint)seed << 32 | (uint)epoch) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)(z ^ (z >> 31));
    }
}
