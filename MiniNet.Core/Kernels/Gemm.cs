using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MiniNet.Kernels;

// Single-precision matrix multiply C = op(A)·op(B) (+ C), op = identity or transpose, row-major.
//
// Algorithm (the Goto/BLIS layering): for each KC-deep slice of k, copy ("pack") a KC×NC block of op(B) into
// NR-wide column panels and an MC×KC block of op(A) into MR-tall row panels, so the micro-kernel reads both
// sequentially. The micro-kernel keeps an MR×NR tile of C in registers (Vector512: 8×32, 16 accumulators;
// Vector256: 6×16, 12 accumulators) and performs KC rank-1 updates with fused multiply-adds. Packing absorbs
// the transposes, so no operand is ever copied transposed. Edge tiles are zero-padded in the packed buffers
// and written back through a small stack tile.
//
// Threads: the larger of m and n is cut into one contiguous part per thread (in whole tiles); each thread
// packs its own operands, and every element of C is summed in the same order whatever the split. When k dwarfs
// m and n (weight gradients: k = batch·positions), k is split instead: each thread sums its part of k into its own
// buffer and the parts are added in thread order. Either way results are bitwise reproducible for a given thread
// count. Reference twin: Kernels/Reference/GemmReference.cs.
internal static unsafe class Gemm
{
    private const int KC = 256, MC = 96, NC = 2048;

    private static readonly bool s_avx512 = Vector512.IsHardwareAccelerated;
    private static readonly bool s_avx256 = Vector256.IsHardwareAccelerated;
    private static readonly int MR = s_avx512 ? 8 : 6;
    private static readonly int NR = s_avx512 ? 32 : 16;

    /// <summary>Below this many multiply-adds (about 40 µs of one core) a single thread is faster than waking a second
    /// (measured on the fig1 workload's 60×784·784×100 products).</summary>
    private const long ParallelThreshold = 1L << 23;

    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;

    /// <summary>c[i, j] = Σ_p op(a)[i, p]·op(b)[p, j] (+ c[i, j] when <paramref name="accumulate"/>).</summary>
    /// <param name="transA">op(a)[i, p] = a[p·lda + i] when true, a[i·lda + p] otherwise.</param>
    /// <param name="transB">op(b)[p, j] = b[j·ldb + p] when true, b[p·ldb + j] otherwise.</param>
    /// <param name="parallel">Allow several threads (callers already running in parallel pass false).</param>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        bool accumulate, bool parallel = true)
    {
        Debug.Assert(m >= 0 && n >= 0 && k >= 0);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
            return;
        }
        if (!s_avx256)
        {
            Reference.GemmReference.Multiply(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            return;
        }

        fixed (float* pa = a, pb = b, pc = c)
        {
            var p = new Problem(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate);
            int threads = parallel && (long)m * n * k >= ParallelThreshold ? Parallelism.MaxThreads : 1;
            if (threads == 1)
            {
                Run(p, 0, m, 0, n);
                return;
            }
            if ((long)k >= 8L * Math.Max(m, n) && k >= 2 * KC * threads)
            {
                SplitK(p, threads);
                return;
            }
            // Split the larger dimension in whole tiles.
            bool splitN = n >= m;
            int tile = splitN ? NR : MR, extent = splitN ? n : m;
            int tiles = (extent + tile - 1) / tile;
            threads = Math.Min(threads, tiles);
            Parallelism.For(threads, t =>
            {
                int start = (int)((long)tiles * t / threads) * tile;
                int end = Math.Min(extent, (int)((long)tiles * (t + 1) / threads) * tile);
                if (splitN) Run(p, 0, m, start, end);
                else Run(p, start, end, 0, n);
            });
        }
    }

    private readonly struct Problem(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        public readonly bool TransA = transA, TransB = transB, Accumulate = accumulate;
        public readonly int M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc;
        public readonly float* A = a, B = b, C = c;
    }

    /// <summary>Each thread multiplies over its own slice of k (whole KC blocks); thread 0 writes C, the others a pooled
    /// buffer, added to C in thread order afterwards.</summary>
    private static void SplitK(Problem p, int threads)
    {
        int blocks = (p.K + KC - 1) / KC;
        float[][] partial = new float[threads - 1][];
        for (int t = 1; t < threads; t++) partial[t - 1] = BufferPool.Rent(p.M * p.N);
        try
        {
            Parallelism.For(threads, t =>
            {
                int k0 = Math.Min(p.K, blocks * t / threads * KC), k1 = Math.Min(p.K, blocks * (t + 1) / threads * KC);
                fixed (float* buffer = t == 0 ? null : partial[t - 1])
                {
                    // op(A)[:, k0..k1] and op(B)[k0..k1, :] are offsets into the same arrays.
                    float* a = p.A + (p.TransA ? (long)k0 * p.Lda : k0);
                    float* b = p.B + (p.TransB ? k0 : (long)k0 * p.Ldb);
                    var part = t == 0
                        ? new Problem(p.TransA, p.TransB, p.M, p.N, k1 - k0, a, p.Lda, b, p.Ldb, p.C, p.Ldc, p.Accumulate)
                        : new Problem(p.TransA, p.TransB, p.M, p.N, k1 - k0, a, p.Lda, b, p.Ldb, buffer, p.N, accumulate: false);
                    Run(part, 0, p.M, 0, p.N);
                }
            });
            for (int t = 1; t < threads; t++)
                for (int i = 0; i < p.M; i++)
                {
                    var row = new Span<float>(p.C + (long)i * p.Ldc, p.N);
                    System.Numerics.Tensors.TensorPrimitives.Add(row, partial[t - 1].AsSpan(i * p.N, p.N), row);
                }
        }
        finally
        {
            foreach (float[] buffer in partial) BufferPool.Return(buffer);
        }
    }

    /// <summary>Computes the block C[i0..i1, j0..j1] on the calling thread.</summary>
    private static void Run(in Problem p, int i0, int i1, int j0, int j1)
    {
        int mr = MR, nr = NR;
        float[] packA = t_packA ??= GC.AllocateUninitializedArray<float>(MC * KC, pinned: true);
        float[] packB = t_packB ??= GC.AllocateUninitializedArray<float>(KC * (NC + 32), pinned: true);
        fixed (float* pa = packA, pb = packB)
        {
            // Equal k-blocks of at most KC: k = 784 runs as 4 × 196 rather than 3 × 256 + 16, whose last sliver would
            // reload and store the whole of C for 16 multiply-adds.
            int kBlocks = (p.K + KC - 1) / KC, kStep = (p.K + kBlocks - 1) / kBlocks;
            for (int jc = j0; jc < j1; jc += NC)
            {
                int nc = Math.Min(NC, j1 - jc);
                for (int pc = 0; pc < p.K; pc += kStep)
                {
                    int kc = Math.Min(kStep, p.K - pc);
                    bool accumulate = p.Accumulate || pc > 0;
                    PackB(p, pc, kc, jc, nc, pb);
                    for (int ic = i0; ic < i1; ic += MC)
                    {
                        int mc = Math.Min(MC, i1 - ic);
                        PackA(p, ic, mc, pc, kc, pa);
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int nTile = Math.Min(nr, nc - jr);
                            for (int ir = 0; ir < mc; ir += mr)
                            {
                                int mTile = Math.Min(mr, mc - ir);
                                float* cTile = p.C + (long)(ic + ir) * p.Ldc + jc + jr;
                                float* aPanel = pa + ir * kc;
                                float* bPanel = pb + jr * kc;
                                if (mTile == mr && nTile == nr)
                                    MicroKernel(kc, aPanel, bPanel, cTile, p.Ldc, accumulate);
                                else
                                    EdgeTile(kc, aPanel, bPanel, cTile, p.Ldc, mTile, nTile, accumulate);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Packs op(A)[ic..ic+mc, pc..pc+kc] as MR-row panels: panel r holds, for each p, MR consecutive rows.</summary>
    private static void PackA(in Problem p, int ic, int mc, int pc, int kc, float* dst)
    {
        int mr = MR;
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            float* panel = dst + ir * kc;
            int q0 = 0;
            if (p.TransA)
            {
                // op(A)[i, p] = A[p·lda + i]: each step of p is a contiguous run of rows.
                if (rows == 8)
                    for (; q0 < kc; q0++) Vector256.Store(Vector256.Load(p.A + (long)(pc + q0) * p.Lda + ic + ir), panel + q0 * 8);
                for (int q = q0; q < kc; q++)
                {
                    float* src = p.A + (long)(pc + q) * p.Lda + ic + ir;
                    for (int r = 0; r < rows; r++) panel[q * mr + r] = src[r];
                }
            }
            else
            {
                // Rows are contiguous in p: transpose 8×8 blocks in registers.
                float* src0 = p.A + (long)(ic + ir) * p.Lda + pc;
                if (rows == 8 && Avx.IsSupported)
                    for (; q0 + 8 <= kc; q0 += 8) Transpose8x8(src0 + q0, p.Lda, panel + q0 * 8, 8);
                for (int r = 0; r < rows; r++)
                {
                    float* src = src0 + (long)r * p.Lda;
                    for (int q = q0; q < kc; q++) panel[q * mr + r] = src[q];
                }
            }
            for (int r = rows; r < mr; r++)
                for (int q = 0; q < kc; q++) panel[q * mr + r] = 0f;
        }
    }

    /// <summary>Writes the transpose of the 8×8 block at <paramref name="src"/> (row stride <paramref name="srcStride"/>)
    /// to <paramref name="dst"/> (row stride <paramref name="dstStride"/>): dst[j·dstStride + i] = src[i·srcStride + j].</summary>
    private static void Transpose8x8(float* src, long srcStride, float* dst, long dstStride)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + srcStride),
            r2 = Avx.LoadVector256(src + 2 * srcStride), r3 = Avx.LoadVector256(src + 3 * srcStride),
            r4 = Avx.LoadVector256(src + 4 * srcStride), r5 = Avx.LoadVector256(src + 5 * srcStride),
            r6 = Avx.LoadVector256(src + 6 * srcStride), r7 = Avx.LoadVector256(src + 7 * srcStride);
        // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3),
            t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE),
            u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>Packs op(B)[pc..pc+kc, jc..jc+nc] as NR-column panels: panel j holds, for each p, NR consecutive columns.</summary>
    private static void PackB(in Problem p, int pc, int kc, int jc, int nc, float* dst)
    {
        int nr = NR;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            float* panel = dst + jr * kc;
            if (!p.TransB)
            {
                for (int q = 0; q < kc; q++)
                {
                    float* src = p.B + (long)(pc + q) * p.Ldb + jc + jr;
                    float* row = panel + q * nr;
                    int c = 0;
                    if (cols == nr && s_avx512)
                    {
                        for (; c + 16 <= nr; c += 16) Vector512.Store(Vector512.Load(src + c), row + c);
                        for (; c + 8 <= nr; c += 8) Vector256.Store(Vector256.Load(src + c), row + c);
                    }
                    for (; c < cols; c++) row[c] = src[c];
                    for (; c < nr; c++) row[c] = 0f;
                }
            }
            else
            {
                // op(B)[p, j] = B[j·ldb + p]: transpose 8×8 blocks (8 columns × 8 steps of p) in registers.
                int q0 = 0;
                if (cols == nr && Avx.IsSupported)
                    for (; q0 + 8 <= kc; q0 += 8)
                        for (int c = 0; c < nr; c += 8)
                            Transpose8x8(p.B + (long)(jc + jr + c) * p.Ldb + pc + q0, p.Ldb, panel + q0 * nr + c, nr);
                for (int c = 0; c < cols; c++)
                {
                    float* src = p.B + (long)(jc + jr + c) * p.Ldb + pc;
                    for (int q = q0; q < kc; q++) panel[q * nr + c] = src[q];
                }
                for (int c = cols; c < nr; c++)
                    for (int q = 0; q < kc; q++) panel[q * nr + c] = 0f;
            }
        }
    }

    /// <summary>A partial tile: compute the full MR×NR tile into a stack buffer, then add the valid part to C.</summary>
    private static void EdgeTile(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, bool accumulate)
    {
        float* tile = stackalloc float[8 * 32];
        MicroKernel(kc, a, b, tile, NR, accumulate: false);
        for (int r = 0; r < rows; r++)
        {
            float* src = tile + r * NR;
            float* dst = c + (long)r * ldc;
            if (accumulate) for (int j = 0; j < cols; j++) dst[j] += src[j];
            else for (int j = 0; j < cols; j++) dst[j] = src[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MicroKernel(int kc, float* a, float* b, float* c, int ldc, bool accumulate)
    {
        if (s_avx512) Kernel8x32(kc, a, b, c, ldc, accumulate);
        else Kernel6x16(kc, a, b, c, ldc, accumulate);
    }

    /// <summary>C[0..8, 0..32] (+)= Σ_q a[q·8 + r]·b[q·32 + j], 16 Vector512 accumulators.</summary>
    private static void Kernel8x32(int kc, float* a, float* b, float* c, int ldc, bool accumulate)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        for (int q = 0; q < kc; q++, a += 8, b += 32)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            Vector512<float> x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }
        Store512(c, c00, c01, accumulate); c += ldc;
        Store512(c, c10, c11, accumulate); c += ldc;
        Store512(c, c20, c21, accumulate); c += ldc;
        Store512(c, c30, c31, accumulate); c += ldc;
        Store512(c, c40, c41, accumulate); c += ldc;
        Store512(c, c50, c51, accumulate); c += ldc;
        Store512(c, c60, c61, accumulate); c += ldc;
        Store512(c, c70, c71, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> v0, Vector512<float> v1, bool accumulate)
    {
        if (accumulate) { v0 += Vector512.Load(c); v1 += Vector512.Load(c + 16); }
        Vector512.Store(v0, c);
        Vector512.Store(v1, c + 16);
    }

    /// <summary>C[0..6, 0..16] (+)= Σ_q a[q·6 + r]·b[q·16 + j], 12 Vector256 accumulators.</summary>
    private static void Kernel6x16(int kc, float* a, float* b, float* c, int ldc, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int q = 0; q < kc; q++, a += 6, b += 16)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            Vector256<float> x = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
        }
        Store256(c, c00, c01, accumulate); c += ldc;
        Store256(c, c10, c11, accumulate); c += ldc;
        Store256(c, c20, c21, accumulate); c += ldc;
        Store256(c, c30, c31, accumulate); c += ldc;
        Store256(c, c40, c41, accumulate); c += ldc;
        Store256(c, c50, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> v0, Vector256<float> v1, bool accumulate)
    {
        if (accumulate) { v0 += Vector256.Load(c); v1 += Vector256.Load(c + 8); }
        Vector256.Store(v0, c);
        Vector256.Store(v1, c + 8);
    }
}
