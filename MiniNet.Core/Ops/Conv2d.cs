using System.Numerics.Tensors;
using MiniNet.Kernels;

namespace MiniNet;

public static partial class Ops
{
    /// <summary>2-D cross-correlation, as <c>torch.nn.functional.conv2d</c>:
    /// y[n, o, i, j] = b[o] + Σ_{c,u,v} w[o, c, u, v]·x[n, c, i·s − p + u, j·s − p + v], zero outside the image.</summary>
    /// <remarks>
    /// Shapes: x (N, C, H, W), weight (O, C, kH, kW), bias (O) or null → y (N, O, ⌊(H + 2p − kH)/s⌋ + 1, ⌊(W + 2p − kW)/s⌋ + 1).
    /// <para>Algorithm: each image is unfolded into a (C·kH·kW, oH·oW) column matrix and multiplied where it lands:
    /// y_n = W·cols_n straight into the output's (O, oH·oW) block of image n; backward dW += dY_n·cols_nᵀ and
    /// dcols = Wᵀ·dY_n, folded onto dx_n while still in cache. Images are split over threads (each thread sums its
    /// own part of dW, and the parts are added in thread order); a batch smaller than the thread count runs image by
    /// image with every thread inside each product. Backward unfolds each image again rather than keeping the columns
    /// from the forward pass: unfolding from the (small, cached) input measured faster than writing the batch's columns
    /// out to memory and reading them back (10.7 against 11.6 ms per training step of the benchmark CNN).
    /// Results do not depend on thread scheduling.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">Wrong ranks, channel mismatch, a kernel larger than the padded input, or bad stride/padding.</exception>
    public static Tensor Conv2d(this Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0)
    {
        ConvGeometry g = CheckConv("Conv2d", x, weight, bias, stride, padding);
        int n = x.Dims[0], c = g.Channels, o = weight.Dims[0];
        int plane = g.OutH * g.OutW, rows = g.Rows, imageSize = c * g.H * g.W, columnSize = rows * plane;
        Tensor y = ConvForward(x, weight, g, null, null, FusedActivation.None);
        float[] xs = x.Storage, ws = weight.Storage, ys = y.Storage;
        var split = ImageSplit.For(n, (long)n * columnSize);
        if (bias is not null)
            for (int i = 0; i < n; i++)
                for (int ch = 0; ch < o; ch++)
                {
                    Span<float> row = ys.AsSpan((i * o + ch) * plane, plane);
                    TensorPrimitives.Add(row, bias.Data[ch], row);
                }

        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Autograd.Record(y, "conv2d", inputs, dy =>
        {
            float[] dys = dy.Storage;
            if (bias is { RequiresGrad: true })
            {
                Span<float> db = bias.Grad!.Data;
                for (int i = 0; i < n; i++)
                    for (int ch = 0; ch < o; ch++) db[ch] += TensorPrimitives.Sum(dys.AsSpan((i * o + ch) * plane, plane));
            }
            bool needW = weight.RequiresGrad, needX = x.RequiresGrad;
            if ((!needW && !needX) || n == 0) return;   // an empty batch adds nothing (untouched gradients read as zeros)
            bool accumulateX = false;
            float[]? dx = needX ? x.AcquireGrad(out accumulateX).Storage : null;
            // Thread 0 adds into dW directly; the others sum into their own buffers, added in thread order below.
            bool accumulateW = true;
            float[]? dw = needW ? weight.AcquireGrad(out accumulateW).Storage : null;
            var partial = new float[]?[split.Threads];
            for (int t = 1; t < split.Threads && needW; t++) partial[t] = BufferPool.Rent(o * rows);
            Parallelism.For(split.Threads, t =>
            {
                float[]? unfolded = needW ? BufferPool.Rent(columnSize) : null;
                float[]? dcolumns = needX ? BufferPool.Rent(columnSize) : null;
                bool first = true;
                for (int i = split.First(t); i < split.First(t + 1); i++)
                {
                    ReadOnlySpan<float> dyi = dys.AsSpan(i * o * plane, o * plane);   // (O, oH·oW)
                    if (needW)
                    {
                        Span<float> columns = unfolded.AsSpan(0, columnSize);
                        g.Unfold(xs.AsSpan(i * imageSize, imageSize), columns);
                        // dW += dY_i·cols_iᵀ : (O, oH·oW)·(oH·oW, R)
                        Span<float> target = t == 0 ? dw : partial[t];
                        Gemm.Multiply(false, true, o, rows, plane, dyi, plane, columns, plane, target, rows,
                            accumulate: !first || (t == 0 && accumulateW), parallel: split.ProductsInParallel);
                        first = false;
                    }
                    if (needX)
                    {
                        // dcols = Wᵀ·dY_i : (R, O)·(O, oH·oW), folded back onto image i.
                        Gemm.Multiply(true, false, rows, plane, o, ws, rows, dyi, plane, dcolumns, plane,
                            accumulate: false, parallel: split.ProductsInParallel);
                        Span<float> dxi = dx.AsSpan(i * imageSize, imageSize);
                        if (!accumulateX) dxi.Clear();
                        g.FoldAdd(dcolumns.AsSpan(0, columnSize), dxi);
                    }
                }
                if (unfolded is not null) BufferPool.Return(unfolded);
                if (dcolumns is not null) BufferPool.Return(dcolumns);
            });
            if (needW)
            {
                Span<float> sum = dw.AsSpan(0, o * rows);
                for (int t = 1; t < split.Threads; t++)
                {
                    // A thread with no images left its buffer unwritten.
                    if (split.First(t + 1) > split.First(t)) TensorPrimitives.Add(sum, partial[t].AsSpan(0, o * rows), sum);
                    BufferPool.Return(partial[t]!);
                }
            }
        });
    }

    /// <summary>Inference-only fused convolution: y = act((conv2d(x, W) + b)·scale[o] + shift[o]), scale and shift per
    /// output channel. A convolution followed by an evaluation-mode BatchNorm2d (scale = γ/√(running σ² + ε),
    /// shift = β − running μ·scale) and an activation computes in one pass: the map is applied to each tile of each
    /// image's product while it is in cache.</summary>
    /// <remarks>Records no graph, so it refuses inputs that would need one (call it under <see cref="Autograd.NoGrad"/>).
    /// Shapes as <see cref="Conv2d"/>; scale and shift (O).</remarks>
    /// <exception cref="ArgumentException">Shapes as <see cref="Conv2d"/>, or scale and shift not O values each.</exception>
    /// <exception cref="InvalidOperationException">Gradient recording is on and an input requires grad.</exception>
    public static Tensor Conv2dAffine(this Tensor x, Tensor weight, Tensor? bias, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        FusedActivation activation, int stride = 1, int padding = 0)
    {
        ConvGeometry g = CheckConv("Conv2dAffine", x, weight, bias, stride, padding);
        CheckScaleShift("Conv2dAffine", weight.Dims[0], scale, shift, activation);
        if (Autograd.Enabled && (x.RequiresGrad || weight.RequiresGrad || bias is { RequiresGrad: true }))
            throw new InvalidOperationException(
                "Conv2dAffine is inference-only and records no graph: call it under Autograd.NoGrad(), or use Conv2d, BatchNorm and the activation.");
        return ConvForward(x, weight, g, scale.ToArray(), FoldBias(bias, scale, shift), activation);
    }

    /// <summary><see cref="Conv2dAffine(Tensor, Tensor, Tensor?, ReadOnlySpan{float}, ReadOnlySpan{float}, FusedActivation, int, int)"/>
    /// with no bias, the shift already folded, and the weight packed beforehand (<see cref="FrozenConv2d"/>; null where
    /// the packed kernels do not run).</summary>
    internal static Tensor Conv2dAffine(Tensor x, Tensor weight, PackedA? packedWeight, float[] scale, float[] shift,
        FusedActivation activation, int stride, int padding)
    {
        ConvGeometry g = CheckConv("Conv2dAffine", x, weight, null, stride, padding);
        if (Autograd.Enabled && x.RequiresGrad)
            throw new InvalidOperationException(
                "Conv2dAffine is inference-only and records no graph: call it under Autograd.NoGrad(), or on a tensor that does not require grad.");
        return ConvForward(x, weight, g, scale, shift, activation, packedWeight);
    }

    /// <summary>Validates the arguments of <paramref name="op"/> (x (N, C, H, W), weight (O, C, kH, kW), bias (O) or null)
    /// and returns the unfolding geometry.</summary>
    private static ConvGeometry CheckConv(string op, Tensor x, Tensor weight, Tensor? bias, int stride, int padding)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (x.Rank != 4 || weight.Rank != 4)
            throw new ArgumentException(
                $"{op}: expects input (N, C, H, W) and weight (O, C, kH, kW), got {Shapes.Format(x.Dims)} and {Shapes.Format(weight.Dims)}.");
        CheckConvWeight(op, weight, bias, stride, padding);
        int c = x.Dims[1], h = x.Dims[2], w = x.Dims[3];
        int kh = weight.Dims[2], kw = weight.Dims[3];
        if (weight.Dims[1] != c)
            throw new ArgumentException(
                $"{op}: input {Shapes.Format(x.Dims)} has {c} channels but weight {Shapes.Format(weight.Dims)} expects {weight.Dims[1]}.");
        if (h + 2 * padding < kh || w + 2 * padding < kw)
            throw new ArgumentException(
                $"{op}: kernel {kh}×{kw} is larger than the padded input {h + 2 * padding}×{w + 2 * padding} (input {Shapes.Format(x.Dims)}, padding {padding}).");

        return new ConvGeometry(c, h, w, kh, kw, stride, padding, (h + 2 * padding - kh) / stride + 1, (w + 2 * padding - kw) / stride + 1);
    }

    /// <summary>Validates what a convolution knows before it sees an input: weight (O, C, kH, kW), bias (O) or null, a
    /// stride of at least 1 and non-negative padding.</summary>
    internal static void CheckConvWeight(string op, Tensor weight, Tensor? bias, int stride, int padding)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 4)
            throw new ArgumentException($"{op}: weight must be (O, C, kH, kW), got {Shapes.Format(weight.Dims)}.", nameof(weight));
        int o = weight.Dims[0];
        if (bias is not null && (bias.Rank != 1 || bias.Dims[0] != o))
            throw new ArgumentException($"{op}: bias must have shape ({o}), got {Shapes.Format(bias.Dims)}.", nameof(bias));
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, $"{op}: stride must be at least 1.");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, $"{op}: padding must be non-negative.");
    }

    /// <summary>y = conv(x, W) (no bias), then act(y·scale[o] + shift[o]) per output channel when scale is not null,
    /// applied by each image's product as it is written. <paramref name="prepacked"/>: W packed by the caller.</summary>
    private static Tensor ConvForward(Tensor x, Tensor weight, ConvGeometry g, float[]? scale, float[]? shift, FusedActivation activation,
        PackedA? prepacked = null)
    {
        int n = x.Dims[0], o = weight.Dims[0];
        int plane = g.OutH * g.OutW, rows = g.Rows, imageSize = g.Channels * g.H * g.W, columnSize = rows * plane;
        Tensor y = Tensor.Allocate(n, o, g.OutH, g.OutW);
        if (n == 0) return y;
        float[] xs = x.Storage, ws = weight.Storage, ys = y.Storage;
        var split = ImageSplit.For(n, (long)n * columnSize);
        // The weight is packed once for all images (on the calling thread, into its buffer), unless it came packed.
        PackedA? packedWeight = prepacked;
        if (packedWeight is null && Gemm.PacksB)
        {
            packedWeight = Gemm.PackA(false, o, rows, ws, rows, t_packedWeight);
            t_packedWeight = Retained(packedWeight.Panels);
        }
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
                    g.UnfoldPacked(xs.AsSpan(i * imageSize, imageSize), columns);
                    Gemm.Multiply(packedWeight, columns, ys.AsSpan(i * o * plane, o * plane), plane,
                        accumulate: false, epilogue, parallel: split.ProductsInParallel);
                }
                t_packedColumns = Retained(columns.Panels!);
                return;
            }
            float[] scratch = BufferPool.Rent(columnSize);
            Span<float> unfolded = scratch.AsSpan(0, columnSize);
            for (int i = split.First(t); i < split.First(t + 1); i++)
            {
                g.Unfold(xs.AsSpan(i * imageSize, imageSize), unfolded);
                // (O, R)·(R, oH·oW) → image i's block of y.
                Gemm.Multiply(false, false, o, plane, rows, ws, rows, unfolded, plane, ys.AsSpan(i * o * plane, o * plane), plane,
                    accumulate: false, epilogue, parallel: split.ProductsInParallel);
            }
            BufferPool.Return(scratch);
        });
        return y;
    }

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

    /// <summary>The unfolding geometry of one image.</summary>
    private readonly record struct ConvGeometry(int Channels, int H, int W, int KH, int KW, int Stride, int Padding, int OutH, int OutW)
    {
        public int Rows => Channels * KH * KW;

        /// <summary>Unfolds one image into its (Rows, oH·oW) column matrix.</summary>
        public void Unfold(ReadOnlySpan<float> image, Span<float> columns) =>
            Layout.Im2Col(image, Channels, H, W, KH, KW, Stride, Padding, OutH, OutW, columns, OutH * OutW);

        /// <summary>Unfolds one image straight into a packed workspace (Rows × oH·oW).</summary>
        public void UnfoldPacked(ReadOnlySpan<float> image, PackedB columns) =>
            Layout.Im2ColPacked(image, Channels, H, W, KH, KW, Stride, Padding, OutH, OutW, columns);

        /// <summary>image += fold(columns) for one image's (Rows, oH·oW) column matrix.</summary>
        public void FoldAdd(ReadOnlySpan<float> columns, Span<float> image) =>
            Layout.Col2ImAdd(columns, Channels, H, W, KH, KW, Stride, Padding, OutH, OutW, image, OutH * OutW);
    }
}
