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
        if (length >= MinPooledLength && Buckets.TryGetValue(length, out var stack) && stack.TryPop(out float[]? array))
        {
            Interlocked.Add(ref s_pooledBytes, -4L * length);
            return array;
        }
        return GC.AllocateUninitializedArray<float>(length);
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

    /// <summary>Bytes currently held by the pool.</summary>
    public static long PooledBytes => Interlocked.Read(ref s_pooledBytes);
}
