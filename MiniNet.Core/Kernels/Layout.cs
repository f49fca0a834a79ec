using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace MiniNet.Kernels;

// Data movement: permutation of dimensions, and im2col / col2im for convolution.
// Permute walks the output in order with an odometer over input strides; the innermost output dimension is a
// strided gather. Reference twin: Kernels/Reference/LayoutReference.cs.
internal static class Layout
{
    /// <summary>destination = source with dimensions reordered: output dimension i is input dimension perm[i].</summary>
    public static void Permute(ReadOnlySpan<float> source, int[] shape, int[] perm, Span<float> destination)
    {
        int rank = shape.Length;
        Debug.Assert(perm.Length == rank && destination.Length == source.Length);
        if (source.Length == 0) return;
        if (rank == 0) { destination[0] = source[0]; return; }
        int[] inStrides = Shapes.Strides(shape);
        int[] outShape = new int[rank], strides = new int[rank];
        for (int i = 0; i < rank; i++) { outShape[i] = shape[perm[i]]; strides[i] = inStrides[perm[i]]; }
        int inner = outShape[rank - 1], innerStride = strides[rank - 1];
        int[] counter = new int[rank];
        int offset = 0;
        for (int o = 0; o < destination.Length; o += inner)
        {
            Span<float> row = destination.Slice(o, inner);
            for (int j = 0, s = offset; j < inner; j++, s += innerStride) row[j] = source[s];
            for (int d = rank - 2; d >= 0; d--)
            {
                offset += strides[d];
                if (++counter[d] < outShape[d]) break;
                offset -= strides[d] * outShape[d];
                counter[d] = 0;
            }
        }
    }

    /// <summary>Unfolds one image (C, H, W) into columns: row (c, i, j) of the (C·kH·kW, oH·oW) block holds
    /// x[c, oy·s − p + i, ox·s − p + j], 0 outside; rows are <paramref name="rowStride"/> apart, so the columns of
    /// several images can sit side by side in one matrix.</summary>
    public static unsafe void Im2Col(ReadOnlySpan<float> image, int channels, int height, int width, int kernelH, int kernelW,
        int stride, int padding, int outH, int outW, Span<float> columns, int rowStride)
    {
        int plane = outH * outW;
        if (IsSame(stride, padding, kernelH, kernelW, height, width, outH, outW) && Vector256.IsHardwareAccelerated)
        {
            Debug.Assert(rowStride >= plane && (channels == 0 || columns.Length >= (long)(channels * kernelH * kernelW - 1) * rowStride + plane));
            fixed (float* cols = columns)
                SameTaps(image, channels, height, width, kernelH, kernelW, padding, cols, new TapRows(rowStride, 0, 0, 0));
            return;
        }
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < kernelH; i++)
                for (int j = 0; j < kernelW; j++)
                    Tap(image.Slice(c * height * width, height * width), height, width, i, j, stride, padding, outH, outW,
                        columns.Slice(((c * kernelH + i) * kernelW + j) * rowStride, plane));
    }

    /// <summary>A "same" stride-1 convolution: output as large as the input, kernel 2p + 1 both ways (so every tap's
    /// shift lies within the zero margins of <see cref="SameTapBuffers"/>).</summary>
    private static bool IsSame(int stride, int padding, int kernelH, int kernelW, int height, int width, int outH, int outW) =>
        stride == 1 && kernelH == 2 * padding + 1 && kernelW == kernelH && outH == height && outW == width;

    /// <summary>One row of <see cref="Im2Col"/>, for kernel tap (i, j) of one channel: row[oy·oW + ox] = src[oy·s − p + i,
    /// ox·s − p + j], 0 outside.</summary>
    private static void Tap(ReadOnlySpan<float> src, int height, int width, int i, int j, int stride, int padding, int outH, int outW,
        Span<float> row)
    {
        if (stride == 1 && outH == height && outW == width)
        {
            ShiftedCopy(src, height, width, i - padding, j - padding, row);
            return;
        }
        for (int oy = 0; oy < outH; oy++)
        {
            int y = oy * stride - padding + i;
            Span<float> dst = row.Slice(oy * outW, outW);
            if ((uint)y >= (uint)height) { dst.Clear(); continue; }
            ReadOnlySpan<float> line = src.Slice(y * width, width);
            if (stride == 1)
            {
                // Contiguous run: ox in [lo, hi) maps to x = ox − p + j inside the row.
                int lo = Math.Clamp(padding - j, 0, outW), hi = Math.Clamp(width + padding - j, lo, outW);
                dst[..lo].Clear();
                line.Slice(lo - padding + j, hi - lo).CopyTo(dst[lo..hi]);
                dst[hi..].Clear();
            }
            else
            {
                for (int ox = 0; ox < outW; ox++)
                {
                    int x = ox * stride - padding + j;
                    dst[ox] = (uint)x < (uint)width ? line[x] : 0f;
                }
            }
        }
    }

    /// <summary><see cref="Im2Col"/> straight into the layout a matrix product reads its B operand in
    /// (<see cref="PackedB"/>: NR-wide column panels per k-block), so the columns are written once instead of written,
    /// read back and packed. A "same" stride-1 convolution goes through <see cref="SameTaps"/>; otherwise each row is
    /// unfolded into a per-thread row (in L1), then copied to the panels a panel width at a time. Either way the panels'
    /// padding columns come out zero.</summary>
    public static unsafe void Im2ColPacked(ReadOnlySpan<float> image, int channels, int height, int width, int kernelH, int kernelW,
        int stride, int padding, int outH, int outW, PackedB packed)
    {
        int plane = outH * outW, k = channels * kernelH * kernelW;
        Debug.Assert(packed.K == k && packed.N == plane);
        Debug.Assert(packed.Values is null && !packed.TransB, "a workspace: a packed copy's values would go stale");
        int nr = Gemm.PanelWidth, panels = (plane + nr - 1) / nr, kStep = Gemm.KStepOf(packed);
        if (IsSame(stride, padding, kernelH, kernelW, height, width, outH, outW) && nr % 8 == 0)
        {
            fixed (float* panels0 = packed.Panels)
                SameTaps(image, channels, height, width, kernelH, kernelW, padding, Gemm.Align64(panels0), new TapRows(0, nr, panels, kStep));
            return;
        }
        Span<float> row = t_tapRow is { } kept && kept.Length >= plane + nr ? kept : t_tapRow = new float[plane + nr];
        row.Slice(plane, nr).Clear();   // the last panel's padding
        fixed (float* panels0 = packed.Panels, r = row)
        {
            float* dst0 = Gemm.Align64(panels0);
            for (int q = 0; q < k; q++)
            {
                int c = q / (kernelH * kernelW), i = q / kernelW % kernelH, j = q % kernelW;
                Tap(image.Slice(c * height * width, height * width), height, width, i, j, stride, padding, outH, outW, row[..plane]);
                // Row q lies in the k-block from pc (kc rows): panel jp's row is at pc·panels·NR + jp·NR·kc + (q − pc)·NR.
                int pc = q / kStep * kStep, kc = Math.Min(kStep, k - pc);
                float* dst = dst0 + (long)pc * panels * nr + (q - pc) * nr;
                for (int jp = 0; jp < panels; jp++, dst += nr * kc)
                    new ReadOnlySpan<float>(r + jp * nr, nr).CopyTo(new Span<float>(dst, nr));
            }
        }
    }

    /// <summary>Where <see cref="SameTaps"/> writes tap q's row: <see cref="RowStride"/> apart into plain rows
    /// (<see cref="Im2Col"/>), or, when <see cref="Nr"/> is set, in the GEMM's packed layout (<see cref="Im2ColPacked"/>):
    /// NR-wide chunks of k-block pc at pc·panels·NR + jp·NR·kc + (q − pc)·NR.</summary>
    private readonly record struct TapRows(int RowStride, int Nr, int Panels, int KStep);

    /// <summary>The unfold of a "same" stride-1 convolution (output as large as the input, so kH = 2p + 1): tap (i, j) of a
    /// channel is the plane read at a shift of (i − p)·W + (j − p), a vector at a time. The plane is read from a copy
    /// with a zero margin of p·W + p on either side, so rows above and below the image come out zero; the columns that
    /// wrapped into a neighbouring row, and the padding past the plane, are masked off with a precomputed mask per
    /// column shift. No call per row and no intermediate row: a tap is one long vector loop instead of oH short ones.
    /// The values are bitwise those of the general path (copies and +0).</summary>
    private static unsafe void SameTaps(ReadOnlySpan<float> image, int channels, int height, int width, int kernelH, int kernelW,
        int padding, float* dst0, TapRows rows)
    {
        int plane = height * width, whole = plane / 8 * 8, k = channels * kernelH * kernelW;
        (float[] padded, int[] masks, int margin, int span) = SameTapBuffers(height, width, kernelW, padding);
        Debug.Assert(image.Length >= channels * plane && (rows.Nr == 0 || rows.Panels * rows.Nr == span));
        fixed (float* pad = padded)
        fixed (int* mask0 = masks)
        fixed (float* src = image)
        {
            for (int c = 0; c < channels; c++)
            {
                Buffer.MemoryCopy(src + (long)c * plane, pad + margin, (long)plane * sizeof(float), (long)plane * sizeof(float));
                for (int i = 0; i < kernelH; i++)
                    for (int j = 0; j < kernelW; j++)
                    {
                        int q = (c * kernelH + i) * kernelW + j;
                        float* from = pad + margin + (i - padding) * width + (j - padding);
                        int* mask = mask0 + j * span;
                        if (rows.Nr == 0)
                        {
                            float* dst = dst0 + (long)q * rows.RowStride;
                            int v = 0;
                            for (; v < whole; v += 8) Vector256.Store(Vector256.Load(from + v) & Vector256.Load(mask + v).AsSingle(), dst + v);
                            for (; v < plane; v++) dst[v] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(from[v]) & mask[v]);
                        }
                        else
                        {
                            int nr = rows.Nr, pc = q / rows.KStep * rows.KStep, kc = Math.Min(rows.KStep, k - pc);
                            float* dst = dst0 + (long)pc * rows.Panels * nr + (q - pc) * nr;
                            for (int jp = 0; jp < rows.Panels; jp++, dst += nr * kc, from += nr, mask += nr)
                                for (int v = 0; v < nr; v += 8)
                                    Vector256.Store(Vector256.Load(from + v) & Vector256.Load(mask + v).AsSingle(), dst + v);
                        }
                    }
            }
        }
    }

    /// <summary>Positions per mask row: the plane rounded up to whole GEMM panels (a multiple of 8), so that the packed
    /// unfold and the unfold into rows share one entry per geometry.</summary>
    private static int SameTapSpan(int plane) => (plane + Gemm.PanelWidth - 1) / Gemm.PanelWidth * Gemm.PanelWidth;

    /// <summary>This thread's buffers for the "same" unfolds: a channel plane with zero margins of p·W + p (only the plane
    /// between them is ever written), and per column shift a mask of span positions (all ones where the shifted column
    /// stays in its row and the position is in the plane). They depend on the geometry only, so they are kept per
    /// thread for the geometries in use (the least recently used goes first); buffers above <see cref="SameTapCachedFloats"/>
    /// are made for the call and not kept.</summary>
    private static (float[] Padded, int[] Masks, int Margin, int Span) SameTapBuffers(int height, int width, int kernelW, int padding)
    {
        int plane = height * width, margin = padding * width + padding, span = SameTapSpan(plane);
        var geometry = (height, width, kernelW, padding);
        var cache = t_sameTaps ??= new SameTapEntry[SameTapCacheSize];
        long now = ++t_sameTapClock;
        int oldest = 0;
        for (int e = 0; e < cache.Length; e++)
        {
            if (cache[e] is { } hit && hit.Geometry == geometry)
            {
                hit.LastUse = now;
                return (hit.Padded, hit.Masks, margin, span);
            }
            if (cache[e] is null || cache[e]!.LastUse < cache[oldest]!.LastUse) oldest = e;
            if (cache[e] is null) break;
        }
        var entry = new SameTapEntry(geometry, new float[2 * margin + span], new int[kernelW * span]) { LastUse = now };
        for (int j = 0; j < kernelW; j++)
            for (int pos = 0, dx = j - padding; pos < span; pos++)
            {
                int x = pos % width + dx;
                entry.Masks[j * span + pos] = pos < plane && (uint)x < (uint)width ? -1 : 0;
            }
        if ((long)entry.Padded.Length + entry.Masks.Length <= SameTapCachedFloats) cache[oldest] = entry;
        return (entry.Padded, entry.Masks, margin, span);
    }

    private sealed record SameTapEntry((int, int, int, int) Geometry, float[] Padded, int[] Masks)
    {
        public long LastUse { get; set; }
    }

    private const int SameTapCacheSize = 16;

    /// <summary>The largest entry kept (floats and mask ints together): a 3×3 layer on a 256×256 plane.</summary>
    private const int SameTapCachedFloats = 1 << 18;

    [ThreadStatic] private static float[]? t_tapRow;
    [ThreadStatic] private static SameTapEntry[]? t_sameTaps;
    [ThreadStatic] private static long t_sameTapClock;

    /// <summary>A "same" stride-1 tap: destination[y, x] = source[y + dy, x + dx], 0 outside. The rows that stay inside
    /// form one contiguous block of the source, copied at once; only the columns that wrapped into a neighbouring row
    /// (|dx| per row) are zeroed afterwards.</summary>
    private static void ShiftedCopy(ReadOnlySpan<float> source, int height, int width, int dy, int dx, Span<float> destination)
    {
        int y0 = Math.Max(0, -dy), y1 = Math.Min(height, height - dy);
        if (y1 <= y0)
        {
            destination.Clear();
            return;
        }
        destination[..(y0 * width)].Clear();
        destination[(y1 * width)..].Clear();
        int count = (y1 - y0) * width, from = (y0 + dy) * width + dx, to = y0 * width;
        int s0 = Math.Max(from, 0), s1 = Math.Min(from + count, height * width);
        source[s0..s1].CopyTo(destination.Slice(to + s0 - from, s1 - s0));
        if (dx < 0)
            for (int y = y0; y < y1; y++) destination.Slice(y * width, Math.Min(-dx, width)).Clear();
        else if (dx > 0)
            for (int y = y0; y < y1; y++) destination.Slice(y * width + Math.Max(0, width - dx), Math.Min(dx, width)).Clear();
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: image += fold(columns), summing where windows overlap.</summary>
    public static void Col2ImAdd(ReadOnlySpan<float> columns, int channels, int height, int width, int kernelH, int kernelW,
        int stride, int padding, int outH, int outW, Span<float> image, int rowStride)
    {
        int plane = outH * outW;
        for (int c = 0; c < channels; c++)
        {
            Span<float> dst = image.Slice(c * height * width, height * width);
            for (int i = 0; i < kernelH; i++)
            {
                for (int j = 0; j < kernelW; j++)
                {
                    ReadOnlySpan<float> row = columns.Slice(((c * kernelH + i) * kernelW + j) * rowStride, plane);
                    for (int oy = 0; oy < outH; oy++)
                    {
                        int y = oy * stride - padding + i;
                        if ((uint)y >= (uint)height) continue;
                        Span<float> line = dst.Slice(y * width, width);
                        ReadOnlySpan<float> src = row.Slice(oy * outW, outW);
                        if (stride == 1)
                        {
                            // Contiguous run: ox in [lo, hi) adds into x = ox − p + j, one vector add.
                            int lo = Math.Clamp(padding - j, 0, outW), hi = Math.Clamp(width + padding - j, lo, outW);
                            Span<float> target = line.Slice(lo - padding + j, hi - lo);
                            System.Numerics.Tensors.TensorPrimitives.Add(target, src[lo..hi], target);
                            continue;
                        }
                        for (int ox = 0; ox < outW; ox++)
                        {
                            int x = ox * stride - padding + j;
                            if ((uint)x < (uint)width) line[x] += src[ox];
                        }
                    }
                }
            }
        }
    }
}
