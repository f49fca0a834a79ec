namespace MiniNet.Kernels;

// The loops around the micro-kernel on one thread: for each NC-wide block of columns and each k-block, pack that block
// of op(B) (unless it came packed), then for each block of rows pack op(A)'s rows and run the micro-kernel over every
// MR × NR tile. C is read and written once per k-block; the epilogue follows each tile's last k-block.
internal static unsafe partial class Gemm
{
    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;

    /// <summary>Computes the block C[i0..i1, j0..j1] on the calling thread.</summary>
    private static void Run(in Problem p, int i0, int i1, int j0, int j1)
    {
        float[] packA = PackABuffer();
        // This thread's block of B (grown for the deep blocking's k-blocks when one first needs it).
        int packBSize = p.KStep * (NC + 32) + 16;
        if (!p.B.IsPacked && (t_packB?.Length ?? 0) < packBSize)
            t_packB = GC.AllocateUninitializedArray<float>(packBSize, pinned: true);
        float[]? packB = t_packB;
        fixed (float* pa0 = packA, pb0 = packB)
        {
            // Panels start on a 64-byte boundary, so that no Vector512 load of B straddles two cache lines.
            float* pa = Align64(pa0), pb = Align64(pb0);
            int kStep = p.KStep, rowBlock = p.RowBlock;
            for (int jc = j0; jc < j1; jc += NC)
            {
                int nc = Math.Min(NC, j1 - jc);
                for (int pc = 0; pc < p.K; pc += kStep)
                {
                    int kc = Math.Min(kStep, p.K - pc);
                    bool accumulate = p.C.Accumulate || pc > 0;
                    bool last = pc + kc >= p.K;
                    // A prepacked block holds all panels: the one for column jc is jc / NR panels in.
                    float* block = p.B.IsPacked ? p.PackedBBlock(pc) + (long)jc * kc : pb;
                    if (!p.B.IsPacked) PackB(p, pc, kc, jc, nc, pb);
                    for (int ic = i0; ic < i1; ic += rowBlock)
                    {
                        int mc = Math.Min(rowBlock, i1 - ic);
                        float* rowsOfA = pa;
                        if (p.A.IsPacked) rowsOfA = p.PackedABlock(pc, ic, kc);
                        else PackA(p, ic, mc, pc, kc, pa);
                        MacroKernel(p, kc, rowsOfA, ic, mc, block, jc, jc, jc + nc, accumulate, last);
                    }
                }
            }
        }
    }

    /// <summary>This thread's buffer for a packed block of A (16 floats of slack for <see cref="Align64"/>).</summary>
    private static float[] PackABuffer() =>
        t_packA ??= GC.AllocateUninitializedArray<float>(Math.Max(MC * KC, DeepMC * DeepKC) + 16, pinned: true);

    /// <summary>C[ic..ic+mc, j0..j1] (+)= a packed block of A × packed panels of B, tile by tile; <paramref name="pb"/>'s
    /// first panel holds column <paramref name="pbColumn"/>. The epilogue follows each tile's last k-block.</summary>
    private static void MacroKernel(in Problem p, int kc, float* pa, int ic, int mc, float* pb, int pbColumn, int j0, int j1,
        bool accumulate, bool last)
    {
        int mr = MR, nr = NR;
        for (int jr = j0; jr < j1; jr += nr)
        {
            int nTile = Math.Min(nr, j1 - jr);
            for (int ir = 0; ir < mc; ir += mr)
            {
                int mTile = Math.Min(mr, mc - ir);
                float* cTile = p.C.Values + (long)(ic + ir) * p.C.Ld + jr;
                float* aPanel = pa + ir * kc;
                float* bPanel = pb + (jr - pbColumn) * kc;
                if (mTile == mr && nTile == nr && s_avx512)
                {
                    // The epilogue is applied as the sums are stored, while they are still in registers.
                    Kernel8x32(kc, aPanel, bPanel, cTile, p.C.Ld, accumulate, last ? p.C.Epilogue.ForTile(ic + ir, jr) : default);
                    continue;
                }
                if (mTile == mr && nTile == nr)
                    Kernel6x16(kc, aPanel, bPanel, cTile, p.C.Ld, accumulate);
                else
                    EdgeTile(kc, aPanel, bPanel, cTile, p.C.Ld, mTile, nTile, accumulate);
                if (last) ApplyEpilogue(cTile, p.C.Ld, mTile, nTile, ic + ir, jr, p.C.Epilogue);
            }
        }
    }
}
