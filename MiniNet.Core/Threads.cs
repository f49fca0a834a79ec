using MiniNet.Kernels;

namespace MiniNet;

/// <summary>How many threads MiniNet's kernels use (like <c>torch.set_num_threads</c>).</summary>
public static class Threads
{
    /// <summary>The most threads a kernel uses; defaults to the processor count. Values below 1 mean 1.</summary>
    /// <remarks>Work is split statically and every reduction is cut by the shape of its operands, never by the thread
    /// count, so results are bitwise identical on any count, whatever the scheduling.</remarks>
    public static int MaxCount
    {
        get => Parallelism.MaxThreads;
        set => Parallelism.MaxThreads = value;
    }
}
