namespace MiniNet.Layers;

/// <summary>Data-parallel training of a module across the ranks of a distributed job (PyTorch's
/// <c>DistributedDataParallel</c>): every rank holds the same model, runs its share of each batch, and after
/// <c>Backward()</c> holds the gradients of the whole batch.</summary>
/// <remarks>
/// <para>At construction rank 0's parameters and buffers are broadcast to every rank, after checking that every rank's
/// model has the same state-dict names and shapes (the first difference is named). During backward, parameters'
/// gradients are averaged in buckets as they become ready (the engine's post-accumulate hook starts a bucket's
/// all-reduce while backward goes on), few large all-reduces rather than one per parameter.</para>
/// <para>The averaging rule: rank r's gradient is weighted by its share of the samples, n_r/N, where n_r is the batch
/// size <see cref="Forward"/> saw on that rank: with each rank's loss the mean over its own samples, the result is the
/// gradient of the mean over the global batch, also when ranks hold different numbers of samples (with equal shares it
/// is the plain average). Every parameter that requires grad must receive a gradient in each backward pass (PyTorch's
/// <c>find_unused_parameters=False</c>).</para>
/// <para>Ordinary BatchNorm layers normalise with each rank's batch statistics; with <c>broadcastBuffers</c> (the
/// default, as PyTorch's) each training forward first takes rank 0's buffers (running statistics), so every rank keeps
/// rank 0's. Use <see cref="SyncBatchNorm"/> for global batch statistics. The wrapped module's state-dict keys are
/// unchanged: save <see cref="Module"/> (on rank 0 only, <see cref="MiniNet.Distributed.IsMain"/>).</para>
/// </remarks>
public sealed class DistributedDataParallel
{
    private readonly List<Bucket> _buckets = [];
    private readonly List<IDisposable> _hooks = [];
    private readonly Tensor[] _rankZeroBuffers;
    private long _localCount;
    private double _share = double.NaN;

    private sealed class Bucket(List<Tensor> parameters)
    {
        public readonly List<Tensor> Parameters = parameters;
        public readonly float[] Flat = new float[parameters.Sum(p => p.Numel)];
        public int Ready;
    }

    /// <summary>Wraps <paramref name="module"/> (call <see cref="MiniNet.Distributed.Init"/> first).</summary>
    /// <param name="module">The model, the same architecture on every rank.</param>
    /// <param name="bucketFloats">Gradient values per bucket (4 Mi floats, 16 MiB, by default; PyTorch's is 25 MiB).</param>
    /// <param name="broadcastBuffers">Take rank 0's buffers at each training forward (PyTorch's default).</param>
    /// <exception cref="InvalidOperationException">The ranks' models differ in names or shapes (the message names the first difference).</exception>
    public DistributedDataParallel(Module module, int bucketFloats = 1 << 22, bool broadcastBuffers = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bucketFloats);
        if (!Distributed.IsInitialized) Distributed.Init();
        (Module, BroadcastBuffers) = (module, broadcastBuffers);
        CheckSameModel(module);
        // The buffers each training forward takes from rank 0: plain BatchNorms' (SyncBatchNorm's agree already).
        _rankZeroBuffers = [.. module.Modules().Where(m => m is BatchNorm and not SyncBatchNorm).SelectMany(m => m.Buffers())];
        foreach ((_, Tensor value) in module.StateDict()) Distributed.Broadcast(value, root: 0);

        // Buckets in reverse registration order, about the order in which backward finishes the gradients.
        var current = new List<Tensor>();
        long size = 0;
        foreach (Parameter p in module.Parameters().Where(p => p.RequiresGrad).Reverse())
        {
            if (current.Count > 0 && size + p.Numel > bucketFloats)
            {
                _buckets.Add(new Bucket(current));
                (current, size) = ([], 0);
            }
            current.Add(p);
            size += p.Numel;
        }
        if (current.Count > 0) _buckets.Add(new Bucket(current));
        if (Distributed.WorldSize > 1)
            foreach (Bucket bucket in _buckets)
                foreach (Tensor p in bucket.Parameters)
                    _hooks.Add(p.RegisterPostAccumulateGradHook(_ => Ready(bucket)));
    }

    /// <summary>The wrapped model.</summary>
    public Module Module { get; }

    /// <summary>Whether each training forward takes rank 0's buffers.</summary>
    public bool BroadcastBuffers { get; }

    /// <summary>The gradient buckets' sizes, in values (for the figures of docs/distributed.md).</summary>
    public IReadOnlyList<int> BucketSizes => [.. _buckets.Select(b => b.Flat.Length)];

    /// <summary>Runs the model on this rank's share of the batch.</summary>
    public Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        _localCount = x.Rank == 0 ? 1 : x.Shape[0];
        _share = double.NaN;
        foreach (Bucket bucket in _buckets) bucket.Ready = 0;
        if (BroadcastBuffers && Module.Training && Distributed.WorldSize > 1)
            foreach (Tensor buffer in _rankZeroBuffers) Distributed.Broadcast(buffer, root: 0);
        return Module.Call(x);
    }

    private void Ready(Bucket bucket)
    {
        if (++bucket.Ready < bucket.Parameters.Count) return;
        bucket.Ready = 0;
        if (double.IsNaN(_share))
        {
            // This rank's part of the step's samples, n_r / N (one small all-reduce per step).
            Span<long> counts = [_localCount];
            Distributed.AllReduce(counts);
            _share = counts[0] > 0 ? (double)_localCount / counts[0] : 0;
        }
        float share = (float)_share;
        int offset = 0;
        foreach (Tensor p in bucket.Parameters)
        {
            Span<float> target = bucket.Flat.AsSpan(offset, p.Numel);
            System.Numerics.Tensors.TensorPrimitives.Multiply(p.Grad!.Data, share, target);
            offset += p.Numel;
        }
        Distributed.AllReduce(bucket.Flat);
        offset = 0;
        foreach (Tensor p in bucket.Parameters)
        {
            bucket.Flat.AsSpan(offset, p.Numel).CopyTo(p.Grad!.Data);
            offset += p.Numel;
        }
    }

    /// <summary>Checks that every rank's model has the same entries (names and shapes), in one all-reduce of a
    /// fingerprint per entry under MPI_MAX and MPI_MIN.</summary>
    private static void CheckSameModel(Module module)
    {
        var entries = module.StateDict().Select(e => $"{e.Key} {Shapes.Format(e.Value.Shape)} {e.Value.DType}").ToList();
        Span<long> count = [entries.Count, -entries.Count];
        Distributed.AllReduce(count, ReduceOp.Max);
        if (count[0] != -count[1])
            throw new InvalidOperationException(
                $"DistributedDataParallel: rank {Distributed.Rank}'s model has {entries.Count} state entries, but the ranks' have between {-count[1]} and {count[0]}.");
        long[] high = [.. entries.Select(Fingerprint)], low = [.. high];
        Distributed.AllReduce(high, ReduceOp.Max);
        Distributed.AllReduce(low, ReduceOp.Min);
        for (int i = 0; i < entries.Count; i++)
            if (high[i] != low[i])
                throw new InvalidOperationException(
                    $"DistributedDataParallel: the ranks' models differ at state entry {i}: rank {Distributed.Rank} has '{entries[i]}'.");
    }

    /// <summary>FNV-1a of the text: the same on every rank and process (string.GetHashCode is randomised per process).</summary>
    private static long Fingerprint(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char ch in text) hash = (hash ^ ch) * 1099511628211UL;
        return (long)hash;
    }
}
