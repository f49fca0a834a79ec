using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace MiniNet.Kernels;

// Batch-normalization kernels over x viewed as (N, C, L): channel c's values are x[n, c, l] for all n, l (m = N·L).
//
// Statistics take two passes: Σ(x − s) with s = the channel's first value, then Σ(x − center)² with center = μ in
// float. Each pass fills a table of float partial sums, one row per (n, c) plane when L > 1 (SIMD lanes along the
// plane) or per block of RowBlock rows when L = 1 (one lane per channel, down the block's rows), and then adds each
// channel's column of the table in double, in row order. Thanks to the shift, neither a large mean nor a long batch
// loses precision, and the result does not depend on the thread count. x̂ = (x − center)·invStd + offset, where
// offset carries μ's rounding error (x − center is exact near μ).
// Backward: dx += k·(dy − a − x̂·b) with k = γ/σ, a = mean(dy), b = mean(dy·x̂); dγ = Σ dy·x̂, dβ = Σ dy.
//
// Threads: every pass splits whole images (L > 1) or whole rows (L = 1) over threads, so each thread streams through
// contiguous memory (splitting a row's channels between threads would make them share cache lines). The kernels stream
// memory with little arithmetic per element, so they use the hardware vector width of System.Numerics.Vector<float>
// rather than a separate Vector512 path: a wider vector saves little where memory sets the pace, not enough for a
// second copy of every loop. The (N, C) kernels are in BatchNormKernels.Rows.cs.
// Reference twin: Kernels/Reference/BatchNormReference.cs.
internal static partial class BatchNormKernels
{
    /// <summary>Per-channel mean and biased variance, in double.</summary>
    public static void Statistics(float[] x, int n, int c, int l, double[] mean, double[] variance)
    {
        Debug.Assert(x.Length >= n * c * l && mean.Length == c && variance.Length == c);
        double m = (double)n * l;
        int rows = TableRows(n, l);
        float[] table = BufferPool.Rent(rows * c), first = new float[c], center = new float[c];
        for (int j = 0; j < c; j++) first[j] = x[j * l];   // a value of the channel, subtracted before summing
        SumDifferences(x, n, c, l, first, squared: false, table);
        ColumnSums(table, rows, c, mean);
        for (int j = 0; j < c; j++)
        {
            mean[j] = first[j] + mean[j] / m;
            center[j] = (float)mean[j];
        }
        SumDifferences(x, n, c, l, center, squared: true, table);
        ColumnSums(table, rows, c, variance);
        for (int j = 0; j < c; j++)
        {
            double error = mean[j] - center[j];   // Σ(x − μ)² = Σ(x − center)² − m·(μ − center)²
            variance[j] = Math.Max(variance[j] / m - error * error, 0);
        }
        BufferPool.Return(table);
    }

    /// <summary>Rows of the partial-sum tables: one per image when L &gt; 1, one per block of rows when L = 1.</summary>
    private static int TableRows(int n, int l) => l == 1 ? (n + RowBlock - 1) / RowBlock : n;

    /// <summary>sums[j] = Σ_r table[r, j] over the table's rows, in double, in row order (a vector of channels at a time).</summary>
    private static unsafe void ColumnSums(float[] table, int rows, int c, double[] sums)
    {
        int w = Vector<float>.Count;
        Array.Clear(sums);
        fixed (float* pt = table)
        fixed (double* ps = sums)
            for (int r = 0; r < rows; r++)
            {
                float* row = pt + (long)r * c;
                int j = 0;
                for (; j + w <= c; j += w)
                {
                    Vector.Widen(Vector.Load(row + j), out Vector<double> low, out Vector<double> high);
                    (Vector.Load(ps + j) + low).Store(ps + j);
                    (Vector.Load(ps + j + w / 2) + high).Store(ps + j + w / 2);
                }
                for (; j < c; j++) ps[j] += row[j];
            }
    }

    /// <summary>table[r, j] = Σ (x − s[j]) over the values of channel j in table row r, or Σ (x − s[j])² when
    /// <paramref name="squared"/>.</summary>
    private static void SumDifferences(float[] x, int n, int c, int l, float[] s, bool squared, float[] table)
    {
        if (l == 1)
        {
            Rows.SumDifferences(x, n, c, s, squared, table);
            return;
        }
        ForRows(n, c * l, (i0, i1) =>
            {
                for (int i = i0; i < i1; i++)
                    for (int j = 0; j < c; j++)
                    {
                        ReadOnlySpan<float> run = x.AsSpan((i * c + j) * l, l);
                        table[i * c + j] = squared ? Runs.SumSquaredDifference(run, s[j]) : Runs.SumDifference(run, s[j]);
                    }
            });
    }

    /// <summary>y[n, c, l] = (x[n, c, l] − center[c])·scale[c] + shift[c], then max(y, 0) when <paramref name="relu"/>
    /// (NaN stays NaN, as in the ReLU op).</summary>
    public static void Normalize(float[] x, int n, int c, int l, float[] center, float[] scale, float[] shift, float[] y, bool relu = false)
    {
        if (l == 1)
        {
            Rows.Normalize(x, n, c, center, scale, shift, y, relu);
            return;
        }
        ForRows(n, c * l, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
                for (int j = 0; j < c; j++)
                    Runs.Affine(x.AsSpan((i * c + j) * l, l), center[j], scale[j], shift[j], y.AsSpan((i * c + j) * l, l), relu);
        });
    }

    /// <summary>Per-channel Σ dy and Σ dy·x̂ with x̂ = (x − center)·invStd + offset, in double.</summary>
    /// <param name="gate">When given (a ReLU fused after the normalisation), dy counts only where the forward output
    /// (x − center)·gate.Scale + gate.Shift was positive: dy is the ReLU's output gradient.</param>
    public static void BackwardSums(float[] x, float[] dy, int n, int c, int l, float[] center, float[] invStd, float[] offset,
        double[] sumDy, double[] sumDyXhat, ReluGate? gate = null)
    {
        // As in Statistics: tables of float partial sums, then each channel's column in double, in row order.
        int rows = TableRows(n, l);
        float[] tableDy = BufferPool.Rent(rows * c), tableDyXhat = BufferPool.Rent(rows * c);
        if (l == 1)
            Rows.GradientSums(x, dy, n, c, center, invStd, offset, gate, tableDy, tableDyXhat);
        else
            ForRows(n, c * l, (i0, i1) =>
            {
                for (int i = i0; i < i1; i++)
                    for (int j = 0; j < c; j++)
                        (tableDy[i * c + j], tableDyXhat[i * c + j]) =
                            Runs.GradientSums(x.AsSpan((i * c + j) * l, l), dy.AsSpan((i * c + j) * l, l), center[j], invStd[j], offset[j],
                                gate is null ? null : (gate.Scale[j], gate.Shift[j]));
            });
        ColumnSums(tableDy, rows, c, sumDy);
        ColumnSums(tableDyXhat, rows, c, sumDyXhat);
        BufferPool.Return(tableDy);
        BufferPool.Return(tableDyXhat);
    }

    /// <summary>dx += k[c]·(dy − a[c] − x̂·b[c]) with x̂ = (x − center)·invStd + offset (dx = … when not <paramref name="accumulate"/>).</summary>
    /// <param name="gate">As in <see cref="BackwardSums"/>: dy is zero where the fused ReLU's input was not positive.</param>
    public static void BackwardInput(float[] x, float[] dy, int n, int c, int l, float[] center, float[] invStd, float[] offset,
        float[] k, float[] a, float[] b, float[] dx, bool accumulate = true, ReluGate? gate = null)
    {
        if (l == 1)
        {
            Rows.InputGradient(x, dy, n, c, center, invStd, offset, k, a, b, dx, accumulate, gate);
            return;
        }
        ForRows(n, c * l, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
                for (int j = 0; j < c; j++)
                    Runs.InputGradient(x.AsSpan((i * c + j) * l, l), dy.AsSpan((i * c + j) * l, l), center[j], invStd[j], offset[j],
                        k[j], a[j], b[j], dx.AsSpan((i * c + j) * l, l), accumulate, gate is null ? null : (gate.Scale[j], gate.Shift[j]));
        });
    }

    /// <summary>dy where the fused ReLU's input y was positive, 0 elsewhere (NaN included), as the ReLU op's gradient.</summary>
    private static Vector<float> Gate(Vector<float> y, Vector<float> dy) =>
        Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<float>.Zero), dy, Vector<float>.Zero);

    /// <summary>Elements from which a pass runs on all threads: a quarter of the elementwise threshold, because in a
    /// training step a batch's activations come back from memory rather than cache, where a second thread pays off
    /// sooner.</summary>
    private const long ParallelThreshold = Parallelism.ElementwiseThreshold / 4;

    /// <summary>Runs body(first row, end row) over contiguous ranges of the n rows (of <paramref name="rowLength"/>
    /// elements), one per thread for large inputs.</summary>
    private static void ForRows(int n, int rowLength, Action<int, int> body)
    {
        int threads = Math.Min(n, (long)n * rowLength >= ParallelThreshold ? Parallelism.MaxThreads : 1);
        Parallelism.For(threads, t => body(n * t / threads, n * (t + 1) / threads));
    }

    /// <summary>Loops over one contiguous run with per-run scalars.</summary>
    /// <remarks>Vectors are read and written through references (LoadUnsafe/StoreUnsafe), inside bounds the loop
    /// conditions keep, after one check that the other runs are at least as long as x: slicing a span for every vector
    /// would cost a bounds check per load.</remarks>
    private static class Runs
    {
        private static void CheckLength(int x, int other, string name)
        {
            if (other < x) throw new ArgumentException($"BatchNorm run: {name} has {other} values, x has {x}.");
        }

        public static float SumDifference(ReadOnlySpan<float> x, float s)
        {
            ref float rx = ref MemoryMarshal.GetReference(x);
            var acc = Vector<float>.Zero;
            var vs = new Vector<float>(s);
            int i = 0, w = Vector<float>.Count;
            for (; i <= x.Length - w; i += w) acc += Vector.LoadUnsafe(ref rx, (nuint)i) - vs;
            float sum = Vector.Sum(acc);
            for (; i < x.Length; i++) sum += x[i] - s;
            return sum;
        }

        public static float SumSquaredDifference(ReadOnlySpan<float> x, float center)
        {
            ref float rx = ref MemoryMarshal.GetReference(x);
            var acc = Vector<float>.Zero;
            var vc = new Vector<float>(center);
            int i = 0, w = Vector<float>.Count;
            for (; i <= x.Length - w; i += w)
            {
                var d = Vector.LoadUnsafe(ref rx, (nuint)i) - vc;
                acc = Vector.FusedMultiplyAdd(d, d, acc);
            }
            float sum = Vector.Sum(acc);
            for (; i < x.Length; i++) { float d = x[i] - center; sum += d * d; }
            return sum;
        }

        public static void Affine(ReadOnlySpan<float> x, float center, float scale, float shift, Span<float> y, bool relu)
        {
            CheckLength(x.Length, y.Length, "y");
            ref float rx = ref MemoryMarshal.GetReference(x), ry = ref MemoryMarshal.GetReference(y);
            var vc = new Vector<float>(center);
            var vs = new Vector<float>(scale);
            var vb = new Vector<float>(shift);
            int i = 0, w = Vector<float>.Count;
            for (; i <= x.Length - w; i += w)
            {
                var v = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref rx, (nuint)i) - vc, vs, vb);
                (relu ? Vector.Max(v, Vector<float>.Zero) : v).StoreUnsafe(ref ry, (nuint)i);
            }
            for (; i < x.Length; i++)
            {
                float v = MathF.FusedMultiplyAdd(x[i] - center, scale, shift);
                y[i] = relu ? MathF.Max(v, 0f) : v;
            }
        }

        public static (float SumDy, float SumDyXhat) GradientSums(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, float center, float inv, float offset,
            (float Scale, float Shift)? gate)
        {
            CheckLength(x.Length, dy.Length, "dy");
            ref float rx = ref MemoryMarshal.GetReference(x), rdy = ref MemoryMarshal.GetReference(dy);
            Vector<float> s = Vector<float>.Zero, sx = Vector<float>.Zero;
            var vc = new Vector<float>(center);
            var vi = new Vector<float>(inv);
            var vo = new Vector<float>(offset);
            var (gs, gt) = gate ?? (0f, 0f);
            var vgs = new Vector<float>(gs);
            var vgt = new Vector<float>(gt);
            int i = 0, w = Vector<float>.Count;
            for (; i <= x.Length - w; i += w)
            {
                var d = Vector.LoadUnsafe(ref rx, (nuint)i) - vc;
                var g = Vector.LoadUnsafe(ref rdy, (nuint)i);
                if (gate is not null) g = Gate(Vector.FusedMultiplyAdd(d, vgs, vgt), g);
                s += g;
                sx = Vector.FusedMultiplyAdd(g, Vector.FusedMultiplyAdd(d, vi, vo), sx);
            }
            float a = Vector.Sum(s), b = Vector.Sum(sx);
            for (; i < x.Length; i++)
            {
                float g = gate is null || MathF.FusedMultiplyAdd(x[i] - center, gs, gt) > 0f ? dy[i] : 0f;
                a += g;
                b += g * MathF.FusedMultiplyAdd(x[i] - center, inv, offset);   // x̂ as the vectors compute it
            }
            return (a, b);
        }

        public static void InputGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, float center, float inv, float offset,
            float k, float a, float b, Span<float> dx, bool accumulate, (float Scale, float Shift)? gate)
        {
            CheckLength(x.Length, dy.Length, "dy");
            CheckLength(x.Length, dx.Length, "dx");
            ref float rx = ref MemoryMarshal.GetReference(x), rdy = ref MemoryMarshal.GetReference(dy), rdx = ref MemoryMarshal.GetReference(dx);
            var (gs, gt) = gate ?? (0f, 0f);
            var vgs = new Vector<float>(gs);
            var vgt = new Vector<float>(gt);
            var vc = new Vector<float>(center);
            var vi = new Vector<float>(inv);
            var vo = new Vector<float>(offset);
            var vk = new Vector<float>(k);
            var va = new Vector<float>(a);
            var vb = new Vector<float>(b);
            int i = 0, w = Vector<float>.Count;
            for (; i <= x.Length - w; i += w)
            {
                var d = Vector.LoadUnsafe(ref rx, (nuint)i) - vc;
                var xhat = Vector.FusedMultiplyAdd(d, vi, vo);
                var dyi = Vector.LoadUnsafe(ref rdy, (nuint)i);
                if (gate is not null) dyi = Gate(Vector.FusedMultiplyAdd(d, vgs, vgt), dyi);
                var g = dyi - va - xhat * vb;
                var before = accumulate ? Vector.LoadUnsafe(ref rdx, (nuint)i) : Vector<float>.Zero;
                Vector.FusedMultiplyAdd(vk, g, before).StoreUnsafe(ref rdx, (nuint)i);
            }
            for (; i < x.Length; i++)
            {
                float dyi = gate is null || MathF.FusedMultiplyAdd(x[i] - center, gs, gt) > 0f ? dy[i] : 0f;
                dx[i] = (accumulate ? dx[i] : 0f) + k * (dyi - a - MathF.FusedMultiplyAdd(x[i] - center, inv, offset) * b);
            }
        }
    }
}

/// <summary>A ReLU fused after a batch normalisation, for the backward kernels: the normalisation's output was
/// (x − center)·Scale + Shift per channel, and the gradient passes only where it was positive.</summary>
internal sealed record ReluGate(float[] Scale, float[] Shift);
