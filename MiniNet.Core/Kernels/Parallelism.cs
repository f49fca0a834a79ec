namespace MiniNet.Kernels;

/// <summary>The one place that decides how many threads kernels use.</summary>
/// <remarks>Work is split statically (a fixed part per index), so results never depend on thread scheduling.</remarks>
internal static class Parallelism
{
    private static int s_maxThreads = Environment.ProcessorCount;

    /// <summary>Threads a kernel may use (at least 1). Defaults to the processor count.</summary>
    public static int MaxThreads
    {
        get => s_maxThreads;
        set => s_maxThreads = Math.Max(1, value);
    }

    /// <summary>Elementwise work (elements) below which one thread is faster than waking another: measured on the
    /// fig1 workload, where every parallel region below this cost more in wake-up latency than it saved.</summary>
    public const long ElementwiseThreshold = 1 << 18;

    /// <summary>Threads to use for <paramref name="elements"/> of elementwise work.</summary>
    public static int ThreadsFor(long elements) => elements < ElementwiseThreshold ? 1 : s_maxThreads;

    /// <summary>Runs body(0) … body(count − 1), in parallel when count &gt; 1 and more than one thread is allowed.</summary>
    public static void For(int count, Action<int> body)
    {
        if (count <= 1 || s_maxThreads == 1)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = s_maxThreads }, body);
    }
}
