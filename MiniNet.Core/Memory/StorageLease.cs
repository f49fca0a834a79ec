namespace MiniNet;

/// <summary>The pooled storage of a tensor made outside any <see cref="TensorScope"/> (an op's output, a copy made by
/// <see cref="Tensor.FromArray"/> or <see cref="Tensor.FromSpan"/>), given back to the <see cref="BufferPool"/> once
/// the garbage collector finds the tensor unreachable.</summary>
/// <remarks>
/// <para>Only the owning tensor refers to its lease, and a view refers to the tensor it views, so the lease is
/// finalized only when neither the tensor nor any view of it can be reached: a tensor a program still holds is never
/// recycled under it. What the collector cannot see is a span: a <c>Span&lt;float&gt;</c> over the array keeps the
/// array alive but not the tensor. So every public way to reach the array (<see cref="Tensor.Data"/>, a tensor that
/// shares it) exposes the lease, and an exposed lease leaves its array to the garbage collector instead. MiniNet's own
/// ops read through <c>Tensor.Values</c>, which does not expose: each keeps its inputs and output reachable while it
/// uses their spans.</para>
/// <para>A loop that makes tensors without a scope would otherwise hand the collector a large array every op, which
/// it frees only in full (generation 2) collections. Leased arrays come back after ordinary generation 0 and 1
/// collections instead, and <see cref="BufferPool.RentLeased"/> starts one when leases outstanding exceed a budget.</para>
/// </remarks>
internal sealed class StorageLease
{
    private readonly float[] _storage;
    private volatile bool _exposed;

    public StorageLease(float[] storage) => _storage = storage;

    /// <summary>Leaves the array to the garbage collector: something outside the tensor may still read it.</summary>
    public void Expose() => _exposed = true;

    ~StorageLease() => BufferPool.EndLease(_storage, recycle: !_exposed);
}
