using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MiniNet.Kernels;

// Packing: for each k-block, a block of op(B) is copied into NR-wide column panels and a block of op(A) into MR-tall row
// panels, so the micro-kernel reads both sequentially, one panel row per step of k. Packing absorbs the transposes (no
// operand is ever copied transposed), and edge panels are zero-padded. Operands that several products reuse are packed
// once, in all their k-blocks, by Pack and PackA (PackedOperands.cs).
internal static unsafe partial class Gemm
{
    /// <summary>Copies op(B) (k × n; b[j·ldb + p] when <paramref name="transB"/>, b[p·ldb + j] otherwise) and packs it
    /// for <see cref="Multiply(bool, int, int, ReadOnlySpan{float}, int, PackedB, Span{float}, int, bool, GemmEpilogue, bool)"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="b"/> is too short for k, n and ldb.</exception>
    public static PackedB Pack(bool transB, int k, int n, ReadOnlySpan<float> b, int ldb)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        int rows = transB ? n : k, cols = transB ? k : n;
        if (cols > ldb && rows > 1) throw new ArgumentException($"Gemm.Pack: ldb = {ldb} is less than a row of {cols}.", nameof(ldb));
        long needed = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ldb + cols;
        if (b.Length < needed)
            throw new ArgumentException($"Gemm.Pack: a {k}×{n} B with ldb = {ldb} needs {needed} values, got {b.Length}.", nameof(b));
        float[] values = b[..(int)needed].ToArray();
        if (!s_avx256 || k == 0 || n == 0) return new PackedB(transB, k, n, values, ldb, null, deep: false);

        return new PackedB(transB, k, n, values, ldb, PackAllBlocks(transB, k, n, values, ldb, deep: false), deep: false);
    }

    /// <summary>All of op(B)'s k-blocks (in the usual or the deep blocking) and panels, packed into a new pinned buffer in
    /// the order the products read them.</summary>
    private static float[] PackAllBlocks(bool transB, int k, int n, float[] values, int ldb, bool deep)
    {
        int kStep = KStep(k, deep);
        float[] packed = PinnedBuffer(checked(k * PanelCount(n) * NR + 16), reuse: null);
        fixed (float* pb = values, dst0 = packed)
        {
            var p = new Problem(0, n, k, default, Operand.OfPrepacked(transB, pb, ldb, Align64(dst0)), default);
            for (int pc = 0; pc < k; pc += kStep) PackB(p, pc, Math.Min(kStep, k - pc), 0, n, p.PackedBBlock(pc));
        }
        return packed;
    }

    /// <summary>A prepacked B's panels in the deep blocking's k-blocks, packed from its values on the first deep product
    /// that reads it and kept: a frozen weight used at a large batch holds both layouts.</summary>
    private static float[] DeepPanels(PackedB b)
    {
        if (Volatile.Read(ref b.DeepPanels) is { } made) return made;
        lock (b)
        {
            if (b.DeepPanels is null) Volatile.Write(ref b.DeepPanels, PackAllBlocks(b.TransB, b.K, b.N, b.Values!, b.Ldb, deep: true));
            return b.DeepPanels!;
        }
    }

    /// <summary>Packs op(A) (m × k; a[p·lda + i] when <paramref name="transA"/>, a[i·lda + p] otherwise) for products
    /// that reuse it (a convolution's weight, for every image of a batch); <paramref name="reuse"/>, when large enough,
    /// is filled instead of a new buffer: it must be the pinned buffer of an earlier PackA or
    /// <see cref="PackedWorkspace"/> (panels are found by aligning its address, which must not move). Needs
    /// <see cref="PacksB"/>.</summary>
    internal static PackedA PackA(bool transA, int m, int k, ReadOnlySpan<float> a, int lda, float[]? reuse)
    {
        if (!s_avx256) throw new PlatformNotSupportedException("Gemm: packed operands need Vector256.");
        float[] panels = PinnedBuffer(checked(k * PaddedRows(m) + 16), reuse);
        int kStep = KStep(k, IsDeep(m, k));
        fixed (float* pa = a, dst0 = panels)
        {
            var p = new Problem(m, 0, k, Operand.OfPrepacked(transA, pa, lda, Align64(dst0)), default, default);
            for (int pc = 0; pc < k; pc += kStep) PackA(p, 0, m, pc, Math.Min(kStep, k - pc), p.PackedABlock(pc, 0, 0));
        }
        return new PackedA(m, k, panels);
    }

    /// <summary>A pinned buffer for op(B) (k × n, untransposed) in packed form, to be filled in place (by
    /// <see cref="Layout.Im2ColPacked"/>) and multiplied by <see cref="Multiply(bool, int, int, ReadOnlySpan{float}, int, PackedB, Span{float}, int, bool, GemmEpilogue, bool)"/>
    /// any number of times. It holds no values, so only machines where <see cref="PacksB"/> can use it, and products
    /// with it never take the paths that read B unpacked (row dot products, a split of k). <paramref name="reuse"/>, when
    /// large enough, must be the pinned buffer of an earlier workspace or <see cref="PackA(bool, int, int, ReadOnlySpan{float}, int, float[])"/>.
    /// <paramref name="m"/>: the rows of the products it will take part in, which decide its k-blocks
    /// (<see cref="IsDeep"/>, <see cref="KStepOf"/>).</summary>
    internal static PackedB PackedWorkspace(int m, int k, int n, float[]? reuse)
    {
        if (!s_avx256) throw new PlatformNotSupportedException("Gemm: packed operands need Vector256.");
        return new PackedB(false, k, n, null, n, PinnedBuffer(checked(k * PanelCount(n) * NR + 16), reuse), IsDeep(m, k));
    }

    /// <summary>The depth of a packed operand's k-blocks (where the panels of a k-block start: see <see cref="Layout.Im2ColPacked"/>).</summary>
    internal static int KStepOf(PackedB b) => KStep(b.K, b.Deep);

    /// <summary>A buffer for packed panels: <paramref name="reuse"/> when it holds <paramref name="size"/> floats, otherwise
    /// a new one. Pinned, because the panels are found by aligning the array's address, which must not move between
    /// products.</summary>
    private static float[] PinnedBuffer(int size, float[]? reuse) =>
        reuse is not null && reuse.Length >= size ? reuse : GC.AllocateUninitializedArray<float>(size, pinned: true);

    /// <summary>Packs op(A)[ic..ic+mc, pc..pc+kc] as MR-row panels: panel r holds, for each p, MR consecutive rows.</summary>
    private static void PackA(in Problem p, int ic, int mc, int pc, int kc, float* dst)
    {
        int mr = MR;
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            float* panel = dst + ir * kc;
            int q0 = 0;
            if (p.A.Trans)
            {
                // op(A)[i, p] = A[p·lda + i]: each step of p is a contiguous run of rows.
                if (rows == 8)
                    for (; q0 < kc; q0++) Vector256.Store(Vector256.Load(p.A.Values + (long)(pc + q0) * p.A.Ld + ic + ir), panel + q0 * 8);
                for (int q = q0; q < kc; q++)
                {
                    float* src = p.A.Values + (long)(pc + q) * p.A.Ld + ic + ir;
                    for (int r = 0; r < rows; r++) panel[q * mr + r] = src[r];
                }
            }
            else
            {
                // Rows are contiguous in p: transpose 8×8 blocks in registers.
                float* src0 = p.A.Values + (long)(ic + ir) * p.A.Ld + pc;
                if (rows == 8 && Avx.IsSupported)
                    for (; q0 + 8 <= kc; q0 += 8) Transpose8x8(src0 + q0, p.A.Ld, panel + q0 * 8, 8);
                for (int r = 0; r < rows; r++)
                {
                    float* src = src0 + (long)r * p.A.Ld;
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
        int full = 0;
        if (!p.B.Trans && s_avx512)
        {
            // Rows of op(B) are rows of B: copy a few rows at a time across all the full panels, so B is read
            // sequentially. Panel by panel, every step of p would jump a whole row of B ahead (4 KB for n = 1024), a
            // stride the hardware prefetchers do not follow across pages.
            full = nc / NR * NR;
            CopyRowRangeToPanels(p, pc, 0, kc, jc, full, dst, kc);
        }
        for (int jr = full; jr < nc; jr += NR) PackBPanel(p, pc, kc, jc + jr, Math.Min(NR, nc - jr), dst + jr * kc);
    }
    /// <summary>Rows copied per pass of <see cref="CopyRowsToPanels"/>: each panel then receives whole cache lines.</summary>
    private const int RowsPerPass = 4;

    /// <summary>Copies rows u0..u1 of the k-block at <paramref name="pc"/> (columns jc..jc+cols, cols a multiple of NR) into
    /// the block's panels at dst, <see cref="RowsPerPass"/> rows at a time (u0 a multiple of it).</summary>
    private static void CopyRowRangeToPanels(in Problem p, int pc, int u0, int u1, int jc, int cols, float* dst, int kc)
    {
        for (int u = u0; u < u1; u += RowsPerPass)
            CopyRowsToPanels(p, pc + u, Math.Min(RowsPerPass, u1 - u), jc, cols, dst + u * NR, kc);
    }

    /// <summary>Copies rows q0..q0+rows of B (columns jc..jc+cols, cols a multiple of NR) into the panels at dst, which
    /// points at the first panel's row for q0 (row q0 − pc of the k-block); consecutive panels are kc·NR apart.</summary>
    private static void CopyRowsToPanels(in Problem p, int q0, int rows, int jc, int cols, float* dst, int kc)
    {
        float* src = p.B.Values + (long)q0 * p.B.Ld + jc;
        for (int jr = 0; jr < cols; jr += NR, dst += NR * kc)
            for (int r = 0; r < rows; r++)
            {
                float* s = src + (long)r * p.B.Ld + jr;
                Vector512.Store(Vector512.Load(s), dst + r * NR);
                Vector512.Store(Vector512.Load(s + 16), dst + r * NR + 16);
            }
    }

    /// <summary>Packs op(B)[pc..pc+kc, j..j+cols] (cols ≤ NR) as one NR-wide panel, zero-padded.</summary>
    private static void PackBPanel(in Problem p, int pc, int kc, int j, int cols, float* panel)
    {
        int nr = NR;
        if (!p.B.Trans)
        {
            for (int q = 0; q < kc; q++)
            {
                float* src = p.B.Values + (long)(pc + q) * p.B.Ld + j;
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
            // op(B)[p, j] = B[j·ldb + p]: transpose 8×8 blocks (8 columns × 8 steps of p) in registers, 8 columns at
            // a time along all of p, so the 8 rows of B being read stay in L1 (rows of B 4 KB apart all map to the
            // same L1 set; taking all 32 columns at each step of p would evict them before their second half is read).
            int q0 = 0;
            if (cols == nr && Avx.IsSupported)
            {
                q0 = kc & ~7;
                for (int c = 0; c < nr; c += 8)
                    for (int q = 0; q < q0; q += 8)
                        Transpose8x8(p.B.Values + (long)(j + c) * p.B.Ld + pc + q, p.B.Ld, panel + q * nr + c, nr);
            }
            for (int c = 0; c < cols; c++)
            {
                float* src = p.B.Values + (long)(j + c) * p.B.Ld + pc;
                for (int q = q0; q < kc; q++) panel[q * nr + c] = src[q];
            }
            for (int c = cols; c < nr; c++)
                for (int q = 0; q < kc; q++) panel[q * nr + c] = 0f;
        }
    }
}
