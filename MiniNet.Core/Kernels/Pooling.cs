using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MiniNet.Kernels;

/// <summary>The planes [First, Last) of a pooling problem and its window geometry: a kH×kW window stepped by
/// (sH, sW) over the image padded by (pH, pW) on each side, and whether an average counts the padding.</summary>
internal readonly record struct PoolWindow(int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int OutH, int OutW,
    int First, int Last, bool CountIncludePad = true)
{
    /// <summary>A square window with one stride and one padding.</summary>
    public PoolWindow(int h, int w, int kernel, int stride, int padding, int outH, int outW, int first, int last)
        : this(h, w, kernel, kernel, stride, stride, padding, padding, outH, outW, first, last) { }

    /// <summary>2×2 windows stepped by 2 without padding, every one inside the image (not a ceil-mode partial window).</summary>
    public bool IsTwoByTwo => KH == 2 && KW == 2 && SH == 2 && SW == 2 && PH == 0 && PW == 0 && 2 * OutH <= H && 2 * OutW <= W;

    /// <summary>Rows [Y0, Y1) of the image in output row <paramref name="oy"/>'s window, and the window's extent in the
    /// padded image (which a ceil-mode window may overhang), for the average's divisor.</summary>
    public (int Y0, int Y1, int Padded) Rows(int oy) => Span(oy, SH, PH, KH, H);

    /// <summary>Columns [X0, X1) of the image in output column <paramref name="ox"/>'s window, and its padded extent.</summary>
    public (int X0, int X1, int Padded) Columns(int ox) => Span(ox, SW, PW, KW, W);

    private static (int, int, int) Span(int o, int stride, int pad, int kernel, int size)
    {
        int start = o * stride - pad, end = Math.Min(start + kernel, size + pad);
        return (Math.Max(start, 0), Math.Min(end, size), end - start);
    }
}

// Max and average pooling over (N·C) planes, a contiguous range of planes per call (one range per thread).
// Windows are clipped to the image; the clipped part counts as −∞ for max and as 0 for the average, whose divisor is
// the window's extent inside the padded image (PyTorch's count_include_pad, where a ceil-mode window hanging past the
// padding counts only what lies inside it) or, without count_include_pad, inside the image itself.
// Reference twin: Kernels/Reference/PoolingReference.cs.
internal static class Pooling
{
    /// <summary>y = window max; <paramref name="winners"/>, viewed as ints, receives the flat input index of each winner.</summary>
    public static void MaxForward(float[] x, PoolWindow p, float[] y, float[] winners)
    {
        Span<int> argmax = MemoryMarshal.Cast<float, int>(winners.AsSpan());
        if (p.IsTwoByTwo)
        {
            if (Avx512F.IsSupported && p.W % 2 == 0) MaxForward2x2Vector(x, p, y, argmax);
            else MaxForward2x2(x, p, y, argmax);
            return;
        }
        int inPlane = p.H * p.W, outPlane = p.OutH * p.OutW;
        for (int plane = p.First; plane < p.Last; plane++)
        {
            int inBase = plane * inPlane, outBase = plane * outPlane;
            for (int oy = 0; oy < p.OutH; oy++)
            {
                (int y0, int y1, _) = p.Rows(oy);
                for (int ox = 0; ox < p.OutW; ox++)
                {
                    (int x0, int x1, _) = p.Columns(ox);
                    int best = inBase + y0 * p.W + x0;
                    float bestValue = x[best];
                    for (int yy = y0; yy < y1; yy++)
                        for (int xx = x0; xx < x1; xx++)
                        {
                            int idx = inBase + yy * p.W + xx;
                            if (x[idx] > bestValue || (float.IsNaN(x[idx]) && !float.IsNaN(bestValue))) { bestValue = x[idx]; best = idx; }
                        }
                    y[outBase + oy * p.OutW + ox] = bestValue;
                    argmax[outBase + oy * p.OutW + ox] = best;
                }
            }
        }
    }

    /// <summary>The common 2×2, stride-2 case, branch-free: with random data the comparisons of the general loop
    /// mispredict about half the time. First wins ties; NaN wins.</summary>
    private static void MaxForward2x2(float[] x, PoolWindow p, float[] y, Span<int> argmax)
    {
        int inPlane = p.H * p.W, outPlane = p.OutH * p.OutW, w = p.W;
        for (int plane = p.First; plane < p.Last; plane++)
        {
            for (int oy = 0; oy < p.OutH; oy++)
            {
                int top = plane * inPlane + 2 * oy * w, o = plane * outPlane + oy * p.OutW;
                for (int ox = 0; ox < p.OutW; ox++, o++)
                {
                    int i = top + 2 * ox;
                    Larger(x, i, i + 1, out float upper, out int upperAt);
                    Larger(x, i + w, i + w + 1, out float lower, out int lowerAt);
                    int mask = Mask(lower, upper);
                    y[o] = Select(upper, lower, mask);
                    argmax[o] = (upperAt & ~mask) | (lowerAt & mask);
                }
            }
        }
    }

    /// <summary>Whether <see cref="MaxValues"/> handles this window (2×2, stride 2, no padding, even width, Vector512).</summary>
    public static bool HasMaxValues(PoolWindow p) => p.IsTwoByTwo && p.W % 2 == 0 && Avx512F.IsSupported;

    /// <summary>y = window max without the winners' indices (for a pass that nothing backpropagates through): the values
    /// of <see cref="MaxForward"/> bitwise, in the same order of comparisons (horizontal pairs, then the two pair-maxima),
    /// with half its stores. Only where <see cref="HasMaxValues"/>.</summary>
    public static void MaxValues(float[] x, PoolWindow p, float[] y)
    {
        Debug.Assert(HasMaxValues(p));
        int inPlane = p.H * p.W, outPlane = p.OutH * p.OutW, pairs = 2 * outPlane, ow = p.OutW;
        if (t_pairMax is null || t_pairMax.Length < pairs + 8)
        {
            // Both buffers grow together: MaxForward2x2Vector sizes them by t_pairMax alone.
            t_pairMax = new float[pairs + 8];
            t_pairAt = new int[pairs + 8];
        }
        float[] pairMax = t_pairMax;
        Vector512<int> evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        Vector512<int> odds = evens + Vector512<int>.One;
        int rangeEnd = p.Last * outPlane;
        for (int plane = p.First; plane < p.Last; plane++)
        {
            int inBase = plane * inPlane, k = 0;
            if (pairs >= 16)
                for (; ; k += 16)
                {
                    if (k > pairs - 16) k = pairs - 16;   // the last block overlaps the previous one
                    Vector512<float> lo = Vector512.LoadUnsafe(ref x[inBase + 2 * k]), hi = Vector512.LoadUnsafe(ref x[inBase + 2 * k + 16]);
                    Vector512<float> left = Avx512F.PermuteVar16x32x2(lo, evens, hi), right = Avx512F.PermuteVar16x32x2(lo, odds, hi);
                    Vector512.ConditionalSelect(Mask(right, left).AsSingle(), right, left).StoreUnsafe(ref pairMax[k]);
                    if (k == pairs - 16) break;
                }
            else
                for (; k < pairs; k++)
                {
                    float a = x[inBase + 2 * k], b = x[inBase + 2 * k + 1];
                    pairMax[k] = Select(a, b, Mask(b, a));
                }
            int outBase = plane * outPlane;
            for (int oy = 0; oy < p.OutH; oy++)
            {
                int upper = 2 * oy * ow, lower = upper + ow, o = outBase + oy * ow, ox = 0;
                if (ow >= 8)
                    for (; ; ox += 8)
                    {
                        if (ox > ow - 8) ox = ow - 8;
                        LargerOfRows8(pairMax, upper + ox, lower + ox, y, o + ox);
                        if (ox == ow - 8) break;
                    }
                else if (o + 8 <= rangeEnd)
                    // A row shorter than a vector, as in MaxForward2x2Vector: eight outputs, those past the row landing on
                    // later rows of this range, which are written afterwards.
                    LargerOfRows8(pairMax, upper, lower, y, o);
                else
                    for (; ox < ow; ox++)
                    {
                        float u = pairMax[upper + ox], l = pairMax[lower + ox];
                        y[o + ox] = Select(u, l, Mask(l, u));
                    }
            }
        }
    }

    /// <summary>Eight outputs from o: the larger of the pair-maxima at <paramref name="upper"/> (wins ties) and <paramref name="lower"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LargerOfRows8(float[] pairMax, int upper, int lower, float[] y, int o)
    {
        Vector256<float> u = Vector256.LoadUnsafe(ref pairMax[upper]), l = Vector256.LoadUnsafe(ref pairMax[lower]);
        Vector256.ConditionalSelect(Mask(l, u).AsSingle(), l, u).StoreUnsafe(ref y[o]);
    }

    [ThreadStatic] private static float[]? t_pairMax;
    [ThreadStatic] private static int[]? t_pairAt;

    /// <summary>The 2×2, stride-2 case for even widths, in two vector passes per plane with the same results as
    /// <see cref="MaxForward2x2"/>: first the larger of each horizontal pair (pairs never straddle rows when W is even,
    /// so the plane is one flat run of pairs), then the larger of the two pair-maxima stacked vertically.</summary>
    private static void MaxForward2x2Vector(float[] x, PoolWindow p, float[] y, Span<int> argmax)
    {
        int inPlane = p.H * p.W, outPlane = p.OutH * p.OutW, pairs = 2 * outPlane, ow = p.OutW;
        if (t_pairMax is null || t_pairMax.Length < pairs + 8)
        {
            // Eight spare elements: short rows are read eight wide (see below).
            t_pairMax = new float[pairs + 8];
            t_pairAt = new int[pairs + 8];
        }
        float[] pairMax = t_pairMax;
        int[] pairAt = t_pairAt!;
        Vector512<int> evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        Vector512<int> odds = evens + Vector512<int>.One;
        int rangeEnd = p.Last * outPlane;   // this call's outputs end here
        for (int plane = p.First; plane < p.Last; plane++)
        {
            int inBase = plane * inPlane;
            // Horizontal pairs: pairMax[k] = max(x[2k], x[2k + 1]) over the first 2·OutH rows of the plane.
            int k = 0;
            if (pairs >= 16)
                for (; ; k += 16)
                {
                    if (k > pairs - 16) k = pairs - 16;   // the last block overlaps the previous one
                    Vector512<float> lo = Vector512.LoadUnsafe(ref x[inBase + 2 * k]), hi = Vector512.LoadUnsafe(ref x[inBase + 2 * k + 16]);
                    Vector512<float> left = Avx512F.PermuteVar16x32x2(lo, evens, hi), right = Avx512F.PermuteVar16x32x2(lo, odds, hi);
                    Vector512<int> mask = Mask(right, left);
                    Vector512.ConditionalSelect(mask.AsSingle(), right, left).StoreUnsafe(ref pairMax[k]);
                    (Vector512.Create(inBase + 2 * k) + evens + (mask & Vector512<int>.One)).StoreUnsafe(ref pairAt[k]);
                    if (k == pairs - 16) break;
                }
            else
                for (; k < pairs; k++)
                {
                    Larger(x, inBase + 2 * k, inBase + 2 * k + 1, out float value, out int index);
                    (pairMax[k], pairAt[k]) = (value, index);
                }
            // Vertical: output (oy, ox) takes the larger of pair rows 2·oy (upper, wins ties) and 2·oy + 1.
            int outBase = plane * outPlane;
            for (int oy = 0; oy < p.OutH; oy++)
            {
                int upper = 2 * oy * ow, lower = upper + ow, o = outBase + oy * ow, ox = 0;
                if (ow >= 8)
                    for (; ; ox += 8)
                    {
                        if (ox > ow - 8) ox = ow - 8;   // the last step overlaps the previous one
                        LargerOfRows8(pairMax, pairAt, upper + ox, lower + ox, y, argmax, o + ox);
                        if (ox == ow - 8) break;
                    }
                else if (o + 8 <= rangeEnd)
                    // A row shorter than a vector: compute eight outputs; those past the row land on later rows of
                    // this thread's range (the next row, or the next plane's), which it writes afterwards. Near the
                    // end of the range, where eight would overrun it, the scalar loop below runs instead.
                    LargerOfRows8(pairMax, pairAt, upper, lower, y, argmax, o);
                else
                    for (; ox < ow; ox++)
                    {
                        float u = pairMax[upper + ox], l = pairMax[lower + ox];
                        int mask = Mask(l, u);
                        y[o + ox] = Select(u, l, mask);
                        argmax[o + ox] = (pairAt[upper + ox] & ~mask) | (pairAt[lower + ox] & mask);
                    }
            }
        }
    }

    /// <summary>Eight outputs from o: the larger of pair-maxima at <paramref name="upper"/> (wins ties) and
    /// <paramref name="lower"/>, with its input index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LargerOfRows8(float[] pairMax, int[] pairAt, int upper, int lower, float[] y, Span<int> argmax, int o)
    {
        Vector256<float> u = Vector256.LoadUnsafe(ref pairMax[upper]), l = Vector256.LoadUnsafe(ref pairMax[lower]);
        Vector256<int> mask = Mask(l, u);
        Vector256.ConditionalSelect(mask.AsSingle(), l, u).StoreUnsafe(ref y[o]);
        Vector256.ConditionalSelect(mask, Vector256.LoadUnsafe(ref pairAt[lower]), Vector256.LoadUnsafe(ref pairAt[upper]))
            .StoreUnsafe(ref argmax[o]);
    }

    /// <summary>Lanes where b should replace a (b &gt; a, or b is NaN and a is not) are all ones.</summary>
    private static Vector512<int> Mask(Vector512<float> b, Vector512<float> a) =>
        (Vector512.GreaterThan(b, a) | (~Vector512.Equals(b, b) & Vector512.Equals(a, a))).AsInt32();

    /// <summary>The Vector256 form of <see cref="Mask(Vector512{float}, Vector512{float})"/>.</summary>
    private static Vector256<int> Mask(Vector256<float> b, Vector256<float> a) =>
        (Vector256.GreaterThan(b, a) | (~Vector256.Equals(b, b) & Vector256.Equals(a, a))).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Larger(float[] x, int i, int j, out float value, out int index)
    {
        float a = x[i], b = x[j];
        int mask = Mask(b, a);
        value = Select(a, b, mask);
        index = (i & ~mask) | (j & mask);
    }

    /// <summary>All ones when b should replace a (b &gt; a, or b is NaN and a is not), else 0; computed without a branch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Mask(float b, float a) => -((b > a ? 1 : 0) | (NaN(b) & (NaN(a) ^ 1)));

    /// <summary>1 for NaN, else 0, from the bits (float.IsNaN compiles to a branch here).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NaN(float v) => (BitConverter.SingleToInt32Bits(v) & 0x7FFFFFFF) > 0x7F800000 ? 1 : 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Select(float a, float b, int mask) =>
        BitConverter.Int32BitsToSingle((BitConverter.SingleToInt32Bits(a) & ~mask) | (BitConverter.SingleToInt32Bits(b) & mask));

    /// <summary>y = window sum / the window's count (see the file's notes on the divisor).</summary>
    public static void AvgForward(float[] x, PoolWindow p, float[] y)
    {
        int inPlane = p.H * p.W, outPlane = p.OutH * p.OutW;
        for (int plane = p.First; plane < p.Last; plane++)
        {
            int inBase = plane * inPlane, outBase = plane * outPlane;
            for (int oy = 0; oy < p.OutH; oy++)
            {
                (int y0, int y1, int paddedRows) = p.Rows(oy);
                for (int ox = 0; ox < p.OutW; ox++)
                {
                    (int x0, int x1, int paddedColumns) = p.Columns(ox);
                    float sum = 0f;
                    for (int yy = y0; yy < y1; yy++)
                        for (int xx = x0; xx < x1; xx++) sum += x[inBase + yy * p.W + xx];
                    y[outBase + oy * p.OutW + ox] = sum * Scale(p, y1 - y0, x1 - x0, paddedRows, paddedColumns);
                }
            }
        }
    }

    /// <summary>dx += dy / the window's count over each window.</summary>
    public static void AvgBackward(float[] dy, PoolWindow p, float[] dx)
    {
        int inPlane = p.H * p.W, outPlane = p.OutH * p.OutW;
        for (int plane = p.First; plane < p.Last; plane++)
        {
            int inBase = plane * inPlane, outBase = plane * outPlane;
            for (int oy = 0; oy < p.OutH; oy++)
            {
                (int y0, int y1, int paddedRows) = p.Rows(oy);
                for (int ox = 0; ox < p.OutW; ox++)
                {
                    (int x0, int x1, int paddedColumns) = p.Columns(ox);
                    float g = dy[outBase + oy * p.OutW + ox] * Scale(p, y1 - y0, x1 - x0, paddedRows, paddedColumns);
                    for (int yy = y0; yy < y1; yy++)
                        for (int xx = x0; xx < x1; xx++) dx[inBase + yy * p.W + xx] += g;
                }
            }
        }
    }

    /// <summary>1 / the average's divisor: the window's padded extent, or only its part inside the image. A window's
    /// divisor is kH·kW unless it overhangs the padding (ceil mode), so the common case divides by the kernel's area.</summary>
    private static float Scale(in PoolWindow p, int rows, int columns, int paddedRows, int paddedColumns) =>
        1f / (p.CountIncludePad ? paddedRows * paddedColumns : rows * columns);
}
