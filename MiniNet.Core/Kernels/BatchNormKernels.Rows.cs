using System.Numerics;

namespace MiniNet.Kernels;

internal static partial class BatchNormKernels
{
    /// <summary>Rows per block of the (N, C) reductions: each block's sums are taken in float, then added in double.</summary>
    private const int RowBlock = 16;

    /// <summary>The (N, C) kernels (L = 1, a BatchNorm1d after a linear layer), as pointer loops along each row. The
    /// reductions sum each block of <see cref="RowBlock"/> rows in float into that block's row of a table (one lane per
    /// channel; the row, a few KB, stays in L1); Statistics and BackwardSums then add the table's rows in double, in
    /// block order (ColumnSums). Rows are walked along, not strips of channels down the rows: a row is 4 KB, so every
    /// step down a strip would be a new page.</summary>
    /// <remarks>A channel's sum is the same whichever thread took which blocks (the blocks are added in order), so the
    /// results do not depend on the thread count.</remarks>
    private static unsafe class Rows
    {
        private static readonly int W = Vector<float>.Count;

        private static Vector<float> Load(float* p) => Vector.Load(p);

        /// <summary>Runs body(block, first row, end row) for every block of <see cref="RowBlock"/> rows, whole blocks per thread.</summary>
        private static void ForRowBlocks(int n, int c, Action<int, int, int> body)
        {
            int blocks = (n + RowBlock - 1) / RowBlock;
            ForRows(blocks, RowBlock * c, (b0, b1) =>
            {
                for (int b = b0; b < b1; b++) body(b, b * RowBlock, Math.Min(n, (b + 1) * RowBlock));
            });
        }

        /// <summary>table[b, j] = Σ (x[i, j] − s[j]) over the rows of block b, or Σ (x[i, j] − s[j])² when <paramref name="squared"/>.</summary>
        public static void SumDifferences(float[] x, int n, int c, float[] s, bool squared, float[] table) =>
            ForRowBlocks(n, c, (b, i0, i1) =>
            {
                fixed (float* px = x, ps = s, pt = table)
                {
                    float* acc = pt + (long)b * c;
                    new Span<float>(acc, c).Clear();
                    for (int i = i0; i < i1; i++)
                    {
                        float* r = px + (long)i * c;
                        int j = 0;
                        if (squared)
                        {
                            for (; j + W <= c; j += W)
                            {
                                Vector<float> d = Load(r + j) - Load(ps + j);
                                Vector.FusedMultiplyAdd(d, d, Load(acc + j)).Store(acc + j);
                            }
                            for (; j < c; j++) { float d = r[j] - ps[j]; acc[j] = MathF.FusedMultiplyAdd(d, d, acc[j]); }
                        }
                        else
                        {
                            for (; j + W <= c; j += W) (Load(acc + j) + (Load(r + j) - Load(ps + j))).Store(acc + j);
                            for (; j < c; j++) acc[j] += r[j] - ps[j];
                        }
                    }
                }
            });

        /// <summary>tableDy[b, j] = Σ dy and tableDyXhat[b, j] = Σ dy·x̂ over the rows of block b, with
        /// x̂ = (x − center)·invStd + offset (dy gated when <paramref name="gate"/> is given).</summary>
        public static void GradientSums(float[] x, float[] dy, int n, int c, float[] center, float[] invStd, float[] offset,
            ReluGate? gate, float[] tableDy, float[] tableDyXhat) =>
            ForRowBlocks(n, c, (b, i0, i1) =>
            {
                fixed (float* px = x, pg = dy, pc = center, pi = invStd, po = offset, pt = tableDy, ptx = tableDyXhat,
                    pgs = gate?.Scale, pgt = gate?.Shift)   // null pointers when not gated (then never read)
                {
                    bool gated = gate is not null;
                    float* accDy = pt + (long)b * c, accDyXhat = ptx + (long)b * c;
                    new Span<float>(accDy, c).Clear();
                    new Span<float>(accDyXhat, c).Clear();
                    for (int i = i0; i < i1; i++)
                    {
                        float* r = px + (long)i * c, g = pg + (long)i * c;
                        int j = 0;
                        for (; j + W <= c; j += W)
                        {
                            Vector<float> d = Load(r + j) - Load(pc + j), gj = Load(g + j);
                            if (gated) gj = Gate(Vector.FusedMultiplyAdd(d, Load(pgs + j), Load(pgt + j)), gj);
                            Vector<float> xhat = Vector.FusedMultiplyAdd(d, Load(pi + j), Load(po + j));
                            (Load(accDy + j) + gj).Store(accDy + j);
                            Vector.FusedMultiplyAdd(gj, xhat, Load(accDyXhat + j)).Store(accDyXhat + j);
                        }
                        for (; j < c; j++)
                        {
                            float xhat = MathF.FusedMultiplyAdd(r[j] - pc[j], pi[j], po[j]);
                            float gj = !gated || MathF.FusedMultiplyAdd(r[j] - pc[j], pgs[j], pgt[j]) > 0f ? g[j] : 0f;
                            accDy[j] += gj;
                            accDyXhat[j] = MathF.FusedMultiplyAdd(gj, xhat, accDyXhat[j]);
                        }
                    }
                }
            });

        /// <summary>y = (x − center)·scale + shift per channel, row by row (an elementwise pass has nothing to keep in
        /// registers, and a strip down the rows would step a page at a time).</summary>
        public static void Normalize(float[] x, int n, int c, float[] center, float[] scale, float[] shift, float[] y, bool relu) =>
            ForRows(n, c, (i0, i1) =>
            {
                fixed (float* px = x, pc = center, ps = scale, pt = shift, py = y)
                    for (int i = i0; i < i1; i++)
                    {
                        float* r = px + (long)i * c, o = py + (long)i * c;
                        int j = 0;
                        if (relu)
                        {
                            for (; j + W <= c; j += W)
                                Vector.Max(Vector.FusedMultiplyAdd(Load(r + j) - Load(pc + j), Load(ps + j), Load(pt + j)), Vector<float>.Zero).Store(o + j);
                            for (; j < c; j++) o[j] = MathF.Max(MathF.FusedMultiplyAdd(r[j] - pc[j], ps[j], pt[j]), 0f);
                        }
                        else
                        {
                            for (; j + W <= c; j += W) Vector.FusedMultiplyAdd(Load(r + j) - Load(pc + j), Load(ps + j), Load(pt + j)).Store(o + j);
                            for (; j < c; j++) o[j] = MathF.FusedMultiplyAdd(r[j] - pc[j], ps[j], pt[j]);
                        }
                    }
            });

        /// <summary>dx (+)= k·(dy − a − x̂·b) per channel, row by row.</summary>
        public static void InputGradient(float[] x, float[] dy, int n, int c, float[] center, float[] invStd, float[] offset,
            float[] k, float[] a, float[] b, float[] dx, bool accumulate, ReluGate? gate) =>
            ForRows(n, c, (i0, i1) =>
            {
                bool gated = gate is not null;
                fixed (float* px = x, pg = dy, pc = center, pi = invStd, po = offset, pk = k, pa = a, pb = b, pd = dx,
                    pgs = gate?.Scale, pgt = gate?.Shift)   // null pointers when not gated (then never read)
                    for (int i = i0; i < i1; i++)
                    {
                        long e = (long)i * c;
                        float* r = px + e, g = pg + e, d = pd + e;
                        int j = 0;
                        for (; j + W <= c; j += W)
                        {
                            Vector<float> diff = Load(r + j) - Load(pc + j), gj = Load(g + j);
                            if (gated) gj = Gate(Vector.FusedMultiplyAdd(diff, Load(pgs + j), Load(pgt + j)), gj);
                            Vector<float> xhat = Vector.FusedMultiplyAdd(diff, Load(pi + j), Load(po + j));
                            Vector<float> before = accumulate ? Load(d + j) : Vector<float>.Zero;
                            Vector.FusedMultiplyAdd(Load(pk + j), gj - Load(pa + j) - xhat * Load(pb + j), before).Store(d + j);
                        }
                        for (; j < c; j++)
                        {
                            float xhat = MathF.FusedMultiplyAdd(r[j] - pc[j], pi[j], po[j]);
                            float gj = !gated || MathF.FusedMultiplyAdd(r[j] - pc[j], pgs[j], pgt[j]) > 0f ? g[j] : 0f;
                            d[j] = MathF.FusedMultiplyAdd(pk[j], gj - pa[j] - xhat * pb[j], accumulate ? d[j] : 0f);
                        }
                    }
            });
    }
}
