using System.Numerics.Tensors;

namespace MiniNet.Kernels;

// The general 2-D convolution: a stride and a padding per axis (the padding's far side may differ, as "same" padding
// of an even kernel needs), dilation, and groups. Like Convolution.cs it is one unfolding per image and matrix products
// over the unfolded columns, group by group: group g's columns are the unfolding of its C/G channels alone, and the
// weight's rows and the output's channels of that group are contiguous, so it is one product over slices:
// y_g = W_g·cols_g, dW_g += dY_g·cols_gᵀ, dcols_g = W_gᵀ·dY_g (one group's columns in scratch at a time).
//
// Threads: whole images per thread; dW summed in fixed groups of images added in group order, as Convolution.cs does,
// so that dW does not depend on the thread count. The common geometry (one stride, symmetric padding, no dilation, one
// group) takes Convolution.cs, whose packed kernels are faster; this path unfolds with plain loops and copies.
// Reference twin: Kernels/Reference/ConvReference.cs (GeneralForward).
internal static class GroupedConvolution
{
    /// <summary>The geometry of one image: C channels of H×W, a kH×kW kernel, strides, the padding before each axis (the
    /// padding after it only decides the output size), dilations, groups, and the output size oH×oW.</summary>
    public readonly record struct Geometry(int Channels, int H, int W, int KH, int KW, int StrideH, int StrideW,
        int PadTop, int PadLeft, int DilationH, int DilationW, int Groups, int OutH, int OutW)
    {
        /// <summary>Rows of an image's column matrix: C·kH·kW (each group's C/G·kH·kW rows contiguous).</summary>
        public int Rows => Channels * KH * KW;

        /// <summary>Rows of one group's columns, and the length of one output channel's weights.</summary>
        public int GroupRows => Rows / Groups;

        /// <summary>Output positions per channel.</summary>
        public int Plane => OutH * OutW;

        /// <summary>Floats per input image.</summary>
        public int ImageSize => Channels * H * W;
    }

    /// <summary>Unfolds channels [firstChannel, firstChannel + count) of one image into their (count·kH·kW, oH·oW) columns, zero
    /// where a tap falls into the padding.</summary>
    public static void Unfold(in Geometry g, ReadOnlySpan<float> image, int firstChannel, int count, Span<float> columns)
    {
        int plane = g.Plane;
        for (int k = 0; k < count; k++)
        {
            ReadOnlySpan<float> channel = image.Slice((firstChannel + k) * g.H * g.W, g.H * g.W);
            for (int u = 0; u < g.KH; u++)
                for (int v = 0; v < g.KW; v++)
                {
                    Span<float> row = columns.Slice(((k * g.KH + u) * g.KW + v) * plane, plane);
                    int offsetX = v * g.DilationW - g.PadLeft;
                    // The output columns j whose input column j·s + offsetX lies inside the image.
                    (int first, int last) = Inside(offsetX, g.StrideW, g.W, g.OutW);
                    for (int i = 0; i < g.OutH; i++)
                    {
                        Span<float> line = row.Slice(i * g.OutW, g.OutW);
                        int y = i * g.StrideH + u * g.DilationH - g.PadTop;
                        if ((uint)y >= (uint)g.H || first >= last)
                        {
                            line.Clear();
                            continue;
                        }
                        ReadOnlySpan<float> source = channel.Slice(y * g.W, g.W);
                        line[..first].Clear();
                        line[last..].Clear();
                        if (g.StrideW == 1) source.Slice(first + offsetX, last - first).CopyTo(line[first..last]);
                        else for (int j = first; j < last; j++) line[j] = source[j * g.StrideW + offsetX];
                    }
                }
        }
    }

    /// <summary>image += fold(columns) for channels [firstChannel, firstChannel + count): each column value added back onto the input
    /// element its tap read.</summary>
    public static void FoldAdd(in Geometry g, ReadOnlySpan<float> columns, int firstChannel, int count, Span<float> image)
    {
        int plane = g.Plane;
        for (int k = 0; k < count; k++)
        {
            Span<float> channel = image.Slice((firstChannel + k) * g.H * g.W, g.H * g.W);
            for (int u = 0; u < g.KH; u++)
                for (int v = 0; v < g.KW; v++)
                {
                    ReadOnlySpan<float> row = columns.Slice(((k * g.KH + u) * g.KW + v) * plane, plane);
                    int offsetX = v * g.DilationW - g.PadLeft;
                    (int first, int last) = Inside(offsetX, g.StrideW, g.W, g.OutW);
                    if (first >= last) continue;
                    for (int i = 0; i < g.OutH; i++)
                    {
                        int y = i * g.StrideH + u * g.DilationH - g.PadTop;
                        if ((uint)y >= (uint)g.H) continue;
                        ReadOnlySpan<float> line = row.Slice(i * g.OutW, g.OutW);
                        Span<float> target = channel.Slice(y * g.W, g.W);
                        if (g.StrideW == 1)
                        {
                            Span<float> span = target.Slice(first + offsetX, last - first);
                            TensorPrimitives.Add(span, line[first..last], span);
                        }
                        else for (int j = first; j < last; j++) target[j * g.StrideW + offsetX] += line[j];
                    }
                }
        }
    }

    /// <summary>The range [first, last) of output columns j with 0 ≤ j·stride + offset &lt; width.</summary>
    private static (int First, int Last) Inside(int offset, int stride, int width, int outW)
    {
        int first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int last = width - offset <= 0 ? 0 : Math.Min(outW, (width - offset - 1) / stride + 1);
        return (Math.Min(first, outW), last);
    }

    /// <summary>y = conv(x, W) for n images of geometry g and o output channels; W is (O, C/G, kH, kW).</summary>
    public static void Forward(float[] x, int n, float[] weight, int o, Geometry g, float[] y)
    {
        if (n == 0) return;
        int plane = g.Plane, groupRows = g.GroupRows, perGroup = o / g.Groups, groupChannels = g.Channels / g.Groups;
        int columnSize = groupRows * plane;   // one group's columns at a time
        int threads = Math.Min(n, Parallelism.ThreadsFor((long)n * g.Rows * plane));
        bool productsInParallel = threads == 1;
        Parallelism.For(threads, t =>
        {
            float[] scratch = BufferPool.Rent(columnSize);
            Span<float> columns = scratch.AsSpan(0, columnSize);
            for (int i = n * t / threads; i < n * (t + 1) / threads; i++)
                for (int group = 0; group < g.Groups; group++)
                {
                    Unfold(g, x.AsSpan(i * g.ImageSize, g.ImageSize), group * groupChannels, groupChannels, columns);
                    // (O/G, R/G)·(R/G, oH·oW) → the group's channels of image i.
                    Gemm.Multiply(false, false, perGroup, plane, groupRows,
                        weight.AsSpan(group * perGroup * groupRows, perGroup * groupRows), groupRows, columns, plane,
                        y.AsSpan((i * o + group * perGroup) * plane, perGroup * plane), plane,
                        accumulate: false, parallel: productsInParallel);
                }
            BufferPool.Return(scratch);
        });
    }

    /// <summary>dx (+)= fold(Wᵀ·dY_i) and dW (+)= Σ_i dY_i·cols_iᵀ, group by group; a null destination is not computed,
    /// and one whose accumulate flag is false is written over.</summary>
    public static void Backward(float[] x, int n, float[] weight, int o, Geometry g, float[] dy,
        float[]? dx, bool accumulateX, float[]? dw, bool accumulateW)
    {
        bool needW = dw is not null, needX = dx is not null;
        if (n == 0 || (!needW && !needX)) return;
        int plane = g.Plane, groupRows = g.GroupRows, perGroup = o / g.Groups, groupChannels = g.Channels / g.Groups;
        int columnSize = groupRows * plane, weightSize = o * groupRows;
        // Fixed groups of whole images, as in Convolution.Backward: group 0 adds into dW, the others into their own
        // buffers, added in group order, so that dW is the same on any thread count.
        int imageGroups = Math.Min(n, 4);
        bool threaded = Parallelism.ThreadsFor((long)n * g.Rows * plane) > 1;
        bool groupsInParallel = threaded && imageGroups > 1, productsInParallel = threaded && imageGroups == 1;
        var partial = new float[]?[imageGroups];
        for (int t = 1; t < imageGroups && needW; t++) partial[t] = BufferPool.Rent(weightSize);
        Action<int> run = t =>
        {
            float[]? unfolded = needW ? BufferPool.Rent(columnSize) : null;
            float[]? dcolumns = needX ? BufferPool.Rent(columnSize) : null;
            bool first = true;
            for (int i = n * t / imageGroups; i < n * (t + 1) / imageGroups; i++)
            {
                Span<float> dxi = needX ? dx.AsSpan(i * g.ImageSize, g.ImageSize) : default;
                if (needX && !accumulateX) dxi.Clear();
                for (int group = 0; group < g.Groups; group++)
                {
                    ReadOnlySpan<float> dyg = dy.AsSpan((i * o + group * perGroup) * plane, perGroup * plane);   // (O/G, oH·oW)
                    if (needW)
                    {
                        Span<float> columns = unfolded.AsSpan(0, columnSize);
                        Unfold(g, x.AsSpan(i * g.ImageSize, g.ImageSize), group * groupChannels, groupChannels, columns);
                        // dW_g += dY_g·cols_gᵀ : (O/G, oH·oW)·(oH·oW, R/G)
                        Span<float> target = (t == 0 ? dw : partial[t]).AsSpan(group * perGroup * groupRows, perGroup * groupRows);
                        Gemm.Multiply(false, true, perGroup, groupRows, plane, dyg, plane, columns, plane, target, groupRows,
                            accumulate: !first || (t == 0 && accumulateW), parallel: productsInParallel);
                    }
                    if (needX)
                    {
                        // dcols_g = W_gᵀ·dY_g : (R/G, O/G)·(O/G, oH·oW), folded onto the group's channels.
                        Span<float> dcols = dcolumns.AsSpan(0, columnSize);
                        Gemm.Multiply(true, false, groupRows, plane, perGroup,
                            weight.AsSpan(group * perGroup * groupRows, perGroup * groupRows), groupRows, dyg, plane, dcols, plane,
                            accumulate: false, parallel: productsInParallel);
                        FoldAdd(g, dcols, group * groupChannels, groupChannels, dxi);
                    }
                }
                first = false;
            }
            if (unfolded is not null) BufferPool.Return(unfolded);
            if (dcolumns is not null) BufferPool.Return(dcolumns);
        };
        if (groupsInParallel) Parallelism.For(imageGroups, run);
        else for (int t = 0; t < imageGroups; t++) run(t);
        if (needW)
        {
            Span<float> sum = dw.AsSpan(0, weightSize);
            for (int t = 1; t < imageGroups; t++)
            {
                TensorPrimitives.Add(sum, partial[t].AsSpan(0, weightSize), sum);
                BufferPool.Return(partial[t]!);
            }
        }
    }
}
