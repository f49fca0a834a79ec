using System.Collections.Concurrent;

namespace MiniNet;

/// <summary>Reusable float arrays for activations, gradients and temporaries, so a training loop in steady state
/// asks the garbage collector for nothing large.</summary>
/// <remarks>
/// Arrays are kept per exact length (training repeats the same shapes every step). Rented arrays are not cleared
/// unless <see cref="RentZeroed"/> is used. The pool holds at most <see cref="MaxPooledBytes"/>; beyond that, returned
/// arrays are left to the garbage collector. Thread-safe.
/// </remarks>
internal static class BufferPool
{
    /// <summary>Arrays shorter than this are cheap to allocate and are not pooled.</summary>
    public const int MinPooledLength = 1024;

    /// <summary>The most the pool keeps, in bytes.</summary>
    public static long MaxPooledBytes { get; set; } = 4L << 30;

    private static readonly ConcurrentDictionary<int, ConcurrentStack<float[]>> Buckets = new();
    private static long s_pooledBytes;

    /// <summary>An array of exactly <paramref name="length"/> floats with unspecified contents.</summary>
    public static float[] Rent(int length)
    {
        return length >= MinPooledLength && TryPop(length, out float[]? array) ? array : GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary>An array of exactly <paramref name="length"/> zeros.</summary>
    public static float[] RentZeroed(int length)
    {
        float[] array = Rent(length);
        Array.Clear(array);
        return array;
    }

    /// <summary>Gives <paramref name="array"/> back; the caller must not touch it afterwards.</summary>
    public static void Return(float[] array)
    {
        if (array.Length < MinPooledLength) return;
        if (Interlocked.Add(ref s_pooledBytes, 4L * array.Length) > MaxPooledBytes)
        {
            Interlocked.Add(ref s_pooledBytes, -4L * array.Length);
            return;
        }
        Buckets.GetOrAdd(array.Length, _ => new ConcurrentStack<float[]>()).Push(array);
    }

    /// <summary>Garbage beyond the live leases that is let accumulate before a collection is asked for, at least.</summary>
    public const long MinLeaseSlack = 32L << 20;

    private static long s_leasedBytes, s_leaseBudget = MinLeaseSlack, s_liveAtStepEnd, s_peakSinceStepEnd;
    private static readonly object CollectGate = new();

    /// <summary>An array for a <see cref="StorageLease"/>: pooled when one of this length is free. When none is and the
    /// leases outstanding exceed the budget, most of them belong to tensors nothing reaches any more whose finalizers
    /// have not run: a collection of generations 0 and 1 returns their arrays. The budget then becomes what is still
    /// leased plus as much again (at least <see cref="MinLeaseSlack"/>): collections come no closer together than the
    /// bytes alive at one, so a tensor rarely meets two of them (it would reach generation 2, which only a full
    /// collection examines), and a loop that never calls backward (evaluation) holds about twice its live tensors.
    /// (Training steps end in <see cref="AfterBackward"/>, which sets the budget from the step.)</summary>
    public static float[] RentLeased(int length)
    {
        long bytes = 4L * length;
        if (!TryPop(length, out float[]? array) && Interlocked.Read(ref s_leasedBytes) + bytes > Interlocked.Read(ref s_leaseBudget))
        {
            lock (CollectGate)   // one thread collects; the others then find the arrays it freed
            {
                if (!TryPop(length, out array) && Interlocked.Read(ref s_leasedBytes) + bytes > Interlocked.Read(ref s_leaseBudget))
                {
                    Collect(1);
                    long live = Interlocked.Read(ref s_leasedBytes);
                    Interlocked.Exchange(ref s_leaseBudget, live + Math.Max(MinLeaseSlack, live));
                    TryPop(length, out array);
                }
            }
        }
        long leased = Interlocked.Add(ref s_leasedBytes, bytes);
        if (leased > Interlocked.Read(ref s_peakSinceStepEnd)) Interlocked.Exchange(ref s_peakSinceStepEnd, leased);   // a racy maximum is enough
        return array ?? GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary>Called at the end of a backward pass, the usual end of a training step: once the leases made since
    /// the last such collection amount to <see cref="MinLeaseSlack"/> or more, collects generations 0 and 1, so that
    /// the finished step's tensors (the graph has just been freed) return their arrays for the next step. A tensor
    /// then meets at most one collection while it lives, so none is promoted to generation 2, where only a full
    /// collection would find it; and the budget of <see cref="RentLeased"/> becomes what is still leased plus the
    /// growth of the step that ended, so that the next step needs no collection of its own.</summary>
    public static void AfterBackward()
    {
        long leased = Interlocked.Read(ref s_leasedBytes);
        if (leased - Interlocked.Read(ref s_liveAtStepEnd) < MinLeaseSlack) return;
        lock (CollectGate)
        {
            long growth = Math.Max(Interlocked.Read(ref s_peakSinceStepEnd), leased) - Interlocked.Read(ref s_liveAtStepEnd);
            Collect(1);
            long live = Interlocked.Read(ref s_leasedBytes);
            Interlocked.Exchange(ref s_liveAtStepEnd, live);
            Interlocked.Exchange(ref s_peakSinceStepEnd, live);
            Interlocked.Exchange(ref s_leaseBudget, live + Math.Max(MinLeaseSlack, growth + growth / 8));
        }
    }

    private static void Collect(int generation)
    {
        GC.Collect(generation, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
    }

    /// <summary>Ends a lease (from its finalizer): the array goes back to the pool, or to the garbage collector when
    /// <paramref name="recycle"/> is false.</summary>
    public static void EndLease(float[] array, bool recycle)
    {
        Interlocked.Add(ref s_leasedBytes, -4L * array.Length);
        if (recycle) Return(array);
    }

    /// <summary>Bytes of arrays held by tensors outside scopes (leases not yet ended).</summary>
    public static long LeasedBytes => Interlocked.Read(ref s_leasedBytes);

    private static bool TryPop(int length, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out float[]? array)
    {
        array = null;
        if (Buckets.TryGetValue(length, out var stack) && stack.TryPop(out array))
        {
            Interlocked.Add(ref s_pooledBytes, -4L * length);
            return true;
        }
        return false;
    }

    /// <summary>Bytes currently held by the pool.</summary>
    public static long PooledBytes => Interlocked.Read(ref s_pooledBytes);
}
