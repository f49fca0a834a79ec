using System.Diagnostics;
using System.Numerics.Tensors;

namespace MiniNet.Kernels;

// 2-D convolution as one matrix product per image over its unfolded columns (im2col, Kernels/Layout.cs):
// forward y_n = W·cols_n straight into the output's (O, oH·oW) block of image n, with an optional per-channel affine
// map and activation applied by the product as it writes (inference fusion); backward dW += dY_n·cols_nᵀ and
// dcols = Wᵀ·dY_n, folded onto dx_n while still in cache. The backward pass unfolds each image again instead of keeping
// the columns of the forward pass: unfolding from the small, cached input is cheaper than writing a batch's columns
// out to memory and reading them back.
//
// Threads: forward, whole images per thread when there are at least as many images as threads, and a smaller batch
// image by image with every thread inside each product. Backward, a fixed number of groups of images in parallel,
// their parts of dW added in group order, so that neither thread scheduling nor the thread count changes dW. The
// packed kernels unfold straight into the product's packed layout and reuse the weight packed once per call (or once
// for good, for a frozen layer).
// Reference twin: Kernels/Reference/ConvReference.cs.
internal static class Convolution
{
    /// <summary>The unfolding geometry of one image: C channels of H×W, a kH×kW kernel, stride and zero padding, and the
    /// output size oH×oW.</summary>
    public readonly record struct Geometry(int Channels, int H, int W, int KH, int KW, int Stride, int Padding, int OutH, int OutW)
    {
        /// <summary>Rows of an image's column matrix: C·kH·kW.</summary>
        public int Rows => Channels * KH * KW;

        /// <summary>Output positions per channel: oH·oW.</summary>
        public int Plane => OutH * OutW;

        /// <summary>Floats per input image: C·H·W.</summary>
        public int ImageSize => Channels * H * W;

        /// <summary>Unfolds one image into its (Rows, oH·oW) column matrix.</summary>
        public void Unfold(ReadOnlySpan<float> image, Span<float> columns) =>
            Layout.Im2Col(image, Channels, H, W, KH, KW, Stride, Padding, OutH, OutW, columns, Plane);

        /// <summary>Unfolds one image straight into a packed workspace (Rows × oH·oW).</summary>
        public void UnfoldPacked(ReadOnlySpan<float> image, PackedB columns) =>
            Layout.Im2ColPacked(image, Channels, H, W, KH, KW, Stride, Padding, OutH, OutW, columns);

        /// <summary>image += fold(columns) for one image's (Rows, oH·oW) column matrix.</summary>
        public void FoldAdd(ReadOnlySpan<float> columns, Span<float> image) =>
            Layout.Col2ImAdd(columns, Channels, H, W, KH, KW, Stride, Padding, OutH, OutW, image, Plane);
    }

    /// <summary>Packs an (O, Rows) weight once for every image's product (<see cref="Forward"/>'s prepacked argument);
    /// null where the packed kernels do not run.</summary>
    public static PackedA? PackWeight(ReadOnlySpan<float> weight, int o, int rows) =>
        Gemm.PacksB && o * rows > 0 ? Gemm.PackA(false, o, rows, weight, rows, reuse: null) : null;

    /// <summary>y = conv(x, W) for n images, then act(y·scale[o] + shift[o]) per output channel when
    /// <paramref name="scale"/> is not null, applied by each image's product as it is written.
    /// <paramref name="prepacked"/>: W packed beforehand (<see cref="PackWeight"/>), or null to pack it here.</summary>
    public static void Forward(float[] x, int n, float[] weight, int o, in Geometry g, float[] y,
        float[]? scale, float[]? shift, FusedActivation activation, PackedA? prepacked = null)
    {
        if (n == 0) return;
        int plane = g.Plane, rows = g.Rows, imageSize = g.ImageSize, columnSize = rows * plane;
        var split = ImageSplit.For(n, (long)n * columnSize);
        // The weight is packed once for all images (on the calling thread, into its buffer), unless it came packed.
        PackedA? packedWeight = prepacked;
        if (packedWeight is null && Gemm.PacksB)
        {
            packedWeight = Gemm.PackA(false, o, rows, weight, rows, t_packedWeight);
            t_packedWeight = Retained(packedWeight.Panels);
        }
        Geometry geometry = g;
        Parallelism.For(split.Threads, t =>
        {
            var epilogue = scale is null ? default : new GemmEpilogue(scale, shift, activation, perRow: true);
            if (packedWeight is not null)
            {
                // Each image is unfolded straight into the product's packed layout (the same sums as unfolding, then
                // packing: the result is bitwise the same).
                PackedB columns = Gemm.PackedWorkspace(o, rows, plane, t_packedColumns);
                for (int i = split.First(t); i < split.First(t + 1); i++)
                {
                    geometry.UnfoldPacked(x.AsSpan(i * imageSize, imageSize), columns);
                    Gemm.Multiply(packedWeight, columns, y.AsSpan(i * o * plane, o * plane), plane,
                        accumulate: false, epilogue, parallel: split.ProductsInParallel);
                }
                t_packedColumns = Retained(columns.Panels!);
                return;
            }
            float[] scratch = BufferPool.Rent(columnSize);
            Span<float> unfolded = scratch.AsSpan(0, columnSize);
            for (int i = split.First(t); i < split.First(t + 1); i++)
            {
                geometry.Unfold(x.AsSpan(i * imageSize, imageSize), unfolded);
                // (O, R)·(R, oH·oW) → image i's block of y.
                Gemm.Multiply(false, false, o, plane, rows, weight, rows, unfolded, plane, y.AsSpan(i * o * plane, o * plane), plane,
                    accumulate: false, epilogue, parallel: split.ProductsInParallel);
            }
            BufferPool.Return(scratch);
        });
    }

    /// <summary>y[i, ch, ·] += bias[ch] for n images of o channels, plane values each.</summary>
    public static void AddBias(float[] y, int n, int o, int plane, ReadOnlySpan<float> bias)
    {
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < o; ch++)
            {
                Span<float> row = y.AsSpan((i * o + ch) * plane, plane);
                TensorPrimitives.Add(row, bias[ch], row);
            }
    }

    /// <summary>db[ch] += Σ over images and positions of dy[i, ch, ·].</summary>
    public static void BiasGradient(float[] dy, int n, int o, int plane, Span<float> db)
    {
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < o; ch++) db[ch] += TensorPrimitives.Sum(dy.AsSpan((i * o + ch) * plane, plane));
    }

    /// <summary>The input and weight gradients of <see cref="Forward"/> without an epilogue: dx (+)= fold(Wᵀ·dY_i) per
    /// image and dW (+)= Σ_i dY_i·cols_iᵀ, each written over its destination when its accumulate flag is false. A null
    /// destination is not computed.</summary>
    public static void Backward(float[] x, int n, float[] weight, int o, in Geometry g, float[] dy,
        float[]? dx, bool accumulateX, float[]? dw, bool accumulateW)
    {
        bool needW = dw is not null, needX = dx is not null;
        Debug.Assert(n > 0, "the op returns before taking gradient targets for an empty batch");
        if (!needW && !needX) return;
        int plane = g.Plane, rows = g.Rows, imageSize = g.ImageSize, columnSize = rows * plane;
        // dW is summed in WeightGroups fixed groups of whole images, whatever the thread count: group 0 adds into dW
        // directly, the others into their own buffers, added in group order below. The groups run in parallel (a batch
        // of one image: its products use every thread).
        int groups = Math.Min(n, WeightGroups);
        bool threaded = Parallelism.ThreadsFor((long)n * columnSize) > 1;
        bool groupsInParallel = threaded && groups > 1, productsInParallel = threaded && groups == 1;
        var partial = new float[]?[groups];
        for (int t = 1; t < groups && needW; t++) partial[t] = BufferPool.Rent(o * rows);
        Geometry geometry = g;
        Action<int> group = t =>
        {
            float[]? unfolded = needW ? BufferPool.Rent(columnSize) : null;
            float[]? dcolumns = needX ? BufferPool.Rent(columnSize) : null;
            bool first = true;
            for (int i = n * t / groups; i < n * (t + 1) / groups; i++)
            {
                ReadOnlySpan<float> dyi = dy.AsSpan(i * o * plane, o * plane);   // (O, oH·oW)
                if (needW)
                {
                    Span<float> columns = unfolded.AsSpan(0, columnSize);
                    geometry.Unfold(x.AsSpan(i * imageSize, imageSize), columns);
                    // dW += dY_i·cols_iᵀ : (O, oH·oW)·(oH·oW, R)
                    Span<float> target = t == 0 ? dw : partial[t];
                    Gemm.Multiply(false, true, o, rows, plane, dyi, plane, columns, plane, target, rows,
                        accumulate: !first || (t == 0 && accumulateW), parallel: productsInParallel);
                    first = false;
                }
                if (needX)
                {
                    // dcols = Wᵀ·dY_i : (R, O)·(O, oH·oW), folded back onto image i.
                    Gemm.Multiply(true, false, rows, plane, o, weight, rows, dyi, plane, dcolumns, plane,
                        accumulate: false, parallel: productsInParallel);
                    Span<float> dxi = dx.AsSpan(i * imageSize, imageSize);
                    if (!accumulateX) dxi.Clear();
                    geometry.FoldAdd(dcolumns.AsSpan(0, columnSize), dxi);
                }
            }
            if (unfolded is not null) BufferPool.Return(unfolded);
            if (dcolumns is not null) BufferPool.Return(dcolumns);
        };
        if (groupsInParallel) Parallelism.For(groups, group);
        else for (int t = 0; t < groups; t++) group(t);
        if (needW)
        {
            Span<float> sum = dw.AsSpan(0, o * rows);
            for (int t = 1; t < groups; t++)
            {
                TensorPrimitives.Add(sum, partial[t].AsSpan(0, o * rows), sum);   // every group holds at least one image
                BufferPool.Return(partial[t]!);
            }
        }
    }

    /// <summary>The groups of whole images whose weight gradients are summed apart and then added, in group order (fewer
    /// for a smaller batch): fixed, so that dW does not depend on the thread count; even, so that two threads share
    /// them equally. It bounds the backward pass to this many threads, and its buffers to this many copies of dW.</summary>
    private const int WeightGroups = 4;

    // Per-thread buffers of the forward pass (pinned): the packed weight and an image's columns in packed form. A pinned
    // buffer is kept for the next call only up to RetainedFloats, so that one very large layer does not hold its buffers
    // on every thread for good (pinned arrays cannot go to the BufferPool, whose arrays may move).
    private const int RetainedFloats = 1 << 22;

    private static float[]? Retained(float[] buffer) => buffer.Length <= RetainedFloats ? buffer : null;

    [ThreadStatic] private static float[]? t_packedWeight;
    [ThreadStatic] private static float[]? t_packedColumns;

    /// <summary>How a batch of images is spread over threads: whole images per thread when there are at least as many
    /// images as threads, otherwise one image at a time with each product using every thread.</summary>
    private readonly record struct ImageSplit(int Images, int Threads, bool ProductsInParallel)
    {
        public static ImageSplit For(int images, long columnFloats)
        {
            int threads = Parallelism.ThreadsFor(columnFloats);
            return images >= threads ? new ImageSplit(images, threads, false) : new ImageSplit(images, 1, true);
        }

        /// <summary>The first image of thread t (and one past the last image of thread t − 1).</summary>
        public int First(int t) => (int)((long)Images * t / Threads);
    }
}
