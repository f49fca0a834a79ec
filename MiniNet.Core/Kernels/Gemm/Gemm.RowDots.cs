using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MiniNet.Kernels;

internal static unsafe partial class Gemm
{
    /// <summary>Row dot products (<see cref="RowDots"/>) on up to <paramref name="threads"/> threads, in blocks of 4 rows.</summary>
    private static void RowDotsOnThreads(Problem p, int threads)
    {
        int m = p.M, blocks = (m + 3) / 4;
        threads = Math.Min(threads, blocks);
        if (threads == 1) RowDots(p, 0, m);
        else Parallelism.For(threads, t => RowDots(p, Math.Min(m, blocks * t / threads * 4), Math.Min(m, blocks * (t + 1) / threads * 4)));
    }

    /// <summary>Rows i0..i1 of C = A·Bᵀ for a narrow B: c[i, j] is the dot product of row i of A and row j of B, both
    /// contiguous, so nothing is packed (the packed path would pad n to a 32-wide tile and copy all of A). Blocks of
    /// 4 rows × 4 columns keep 16 accumulators; B's few rows stay in L1 while each block of A's rows is read once per
    /// 4 columns.</summary>
    private static void RowDots(in Problem p, int i0, int i1)
    {
        int k = p.K, kv = k & ~15;
        float* sums = stackalloc float[16];
        for (int i = i0; i < i1; i += 4)
        {
            int rows = Math.Min(4, i1 - i);
            for (int j = 0; j < p.N; j += 4)
            {
                int cols = Math.Min(4, p.N - j);
                // Rows past the edge repeat the last valid one (their sums are discarded).
                float* a0 = p.A.Values + (long)i * p.A.Ld, a1 = p.A.Values + (long)(i + Math.Min(1, rows - 1)) * p.A.Ld,
                    a2 = p.A.Values + (long)(i + Math.Min(2, rows - 1)) * p.A.Ld, a3 = p.A.Values + (long)(i + Math.Min(3, rows - 1)) * p.A.Ld;
                float* b0 = p.B.Values + (long)j * p.B.Ld, b1 = p.B.Values + (long)(j + Math.Min(1, cols - 1)) * p.B.Ld,
                    b2 = p.B.Values + (long)(j + Math.Min(2, cols - 1)) * p.B.Ld, b3 = p.B.Values + (long)(j + Math.Min(3, cols - 1)) * p.B.Ld;
                Dot4x4(kv, a0, a1, a2, a3, b0, b1, b2, b3, sums);
                for (int r = 0; r < rows; r++)
                {
                    float* ar = p.A.Values + (long)(i + r) * p.A.Ld, crow = p.C.Values + (long)(i + r) * p.C.Ld + j;
                    for (int c = 0; c < cols; c++)
                    {
                        float* bc = p.B.Values + (long)(j + c) * p.B.Ld;
                        float v = sums[r * 4 + c];
                        for (int q = kv; q < k; q++) v = MathF.FusedMultiplyAdd(ar[q], bc[q], v);
                        crow[c] = p.C.Accumulate ? crow[c] + v : v;
                    }
                }
                ApplyEpilogue(p.C.Values + (long)i * p.C.Ld + j, p.C.Ld, rows, cols, i, j, p.C.Epilogue);
            }
        }
    }

    /// <summary>sums[r·4 + c] = Σ_{q &lt; kv} a_r[q]·b_c[q], kv a multiple of 16.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]   // see Kernel8x32
    private static void Dot4x4(int kv, float* a0, float* a1, float* a2, float* a3, float* b0, float* b1, float* b2, float* b3, float* sums)
    {
        Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default,
            s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        for (int q = 0; q < kv; q += 16)
        {
            Vector512<float> x0 = Vector512.Load(b0 + q), x1 = Vector512.Load(b1 + q), x2 = Vector512.Load(b2 + q), x3 = Vector512.Load(b3 + q);
            Vector512<float> a = Vector512.Load(a0 + q);
            s00 = Vector512.FusedMultiplyAdd(a, x0, s00); s01 = Vector512.FusedMultiplyAdd(a, x1, s01);
            s02 = Vector512.FusedMultiplyAdd(a, x2, s02); s03 = Vector512.FusedMultiplyAdd(a, x3, s03);
            a = Vector512.Load(a1 + q);
            s10 = Vector512.FusedMultiplyAdd(a, x0, s10); s11 = Vector512.FusedMultiplyAdd(a, x1, s11);
            s12 = Vector512.FusedMultiplyAdd(a, x2, s12); s13 = Vector512.FusedMultiplyAdd(a, x3, s13);
            a = Vector512.Load(a2 + q);
            s20 = Vector512.FusedMultiplyAdd(a, x0, s20); s21 = Vector512.FusedMultiplyAdd(a, x1, s21);
            s22 = Vector512.FusedMultiplyAdd(a, x2, s22); s23 = Vector512.FusedMultiplyAdd(a, x3, s23);
            a = Vector512.Load(a3 + q);
            s30 = Vector512.FusedMultiplyAdd(a, x0, s30); s31 = Vector512.FusedMultiplyAdd(a, x1, s31);
            s32 = Vector512.FusedMultiplyAdd(a, x2, s32); s33 = Vector512.FusedMultiplyAdd(a, x3, s33);
        }
        sums[0] = Vector512.Sum(s00); sums[1] = Vector512.Sum(s01); sums[2] = Vector512.Sum(s02); sums[3] = Vector512.Sum(s03);
        sums[4] = Vector512.Sum(s10); sums[5] = Vector512.Sum(s11); sums[6] = Vector512.Sum(s12); sums[7] = Vector512.Sum(s13);
        sums[8] = Vector512.Sum(s20); sums[9] = Vector512.Sum(s21); sums[10] = Vector512.Sum(s22); sums[11] = Vector512.Sum(s23);
        sums[12] = Vector512.Sum(s30); sums[13] = Vector512.Sum(s31); sums[14] = Vector512.Sum(s32); sums[15] = Vector512.Sum(s33);
    }
}
