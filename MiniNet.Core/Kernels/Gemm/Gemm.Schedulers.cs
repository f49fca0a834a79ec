namespace MiniNet.Kernels;

// The threaded strategies besides Shared (Gemm.Shared.cs). Each splits the work statically, so every element of C is
// summed in the same order however the threads are scheduled and however many there are.
internal static unsafe partial class Gemm
{
    /// <summary>One contiguous part of C per thread, each thread packing its own operands: m is split (whole tiles of
    /// rows) unless n is at least twice as large. Split by rows, each thread writes whole rows of C, and the next layer,
    /// split the same way, reads them back as its A on the same core. Each thread then packs all of B, which costs too
    /// much when m is small (a training batch of 128 against 1024 outputs), so that splits n.</summary>
    private static void SplitStatic(Problem p, int threads)
    {
        bool splitN = p.N >= 2 * p.M;
        int tile = splitN ? NR : MR, extent = splitN ? p.N : p.M;
        int tiles = (extent + tile - 1) / tile;
        threads = Math.Min(threads, tiles);
        Parallelism.For(threads, t =>
        {
            int start = (int)((long)tiles * t / threads) * tile;
            int end = Math.Min(extent, (int)((long)tiles * (t + 1) / threads) * tile);
            if (splitN) Run(p, 0, p.M, start, end);
            else Run(p, start, end, 0, p.N);
        });
    }

    /// <summary>Sums <paramref name="parts"/> slices of k (whole KC blocks) apart, in parallel when more than one of
    /// <paramref name="threads"/> is allowed: part 0
    /// into C, the others into pooled buffers, added to C in part order afterwards. The parts depend on the shape only
    /// (<see cref="SplitKParts"/>), so the sums are the same however many threads run them.</summary>
    private static void SplitK(Problem p, int parts, int threads)
    {
        int blocks = (p.K + KC - 1) / KC;
        float[][] partial = new float[parts - 1][];
        for (int t = 1; t < parts; t++) partial[t - 1] = BufferPool.Rent(p.M * p.N);
        try
        {
            Action<int> sumPart = t =>
            {
                int k0 = Math.Min(p.K, blocks * t / parts * KC), k1 = Math.Min(p.K, blocks * (t + 1) / parts * KC);
                fixed (float* buffer = t == 0 ? null : partial[t - 1])
                {
                    // Part 0 sums into C (without the epilogue, applied once the parts are added), the others into their buffers.
                    Output part = t == 0 ? new Output(p.C.Values, p.C.Ld, p.C.Accumulate, default) : new Output(buffer, p.N, accumulate: false, default);
                    Run(p.SliceOfK(k0, k1, part), 0, p.M, 0, p.N);
                }
            };
            if (threads == 1) for (int t = 0; t < parts; t++) sumPart(t);
            else Parallelism.For(parts, sumPart);
            for (int t = 1; t < parts; t++)
                for (int i = 0; i < p.M; i++)
                {
                    var row = new Span<float>(p.C.Values + (long)i * p.C.Ld, p.N);
                    System.Numerics.Tensors.TensorPrimitives.Add(row, partial[t - 1].AsSpan(i * p.N, p.N), row);
                }
        }
        finally
        {
            foreach (float[] buffer in partial) BufferPool.Return(buffer);
        }
    }
}
