using System.Runtime.InteropServices;
using MiniNet.Kernels;

namespace MiniNet;

public static partial class Ops
{
    /// <summary>Max pooling over kernel×kernel windows: y[n, c, i, j] = max over the window at (i·s − p, j·s − p).
    /// Stride defaults to the kernel size; padded positions never win. Output (N, C, ⌊(H + 2p − k)/s⌋ + 1, …), or with
    /// <paramref name="ceilMode"/> ⌈…⌉ + 1 (a last, partial window, as long as it starts inside the image or the left
    /// padding: PyTorch's rule).</summary>
    /// <remarks>Backward sends each output's gradient to the input position that won (the first one on ties).</remarks>
    public static Tensor MaxPool2d(this Tensor x, int kernel, int? stride = null, int padding = 0, bool ceilMode = false) =>
        x.MaxPool2d((kernel, kernel), stride is int s ? (s, s) : null, (padding, padding), ceilMode);

    /// <summary>Max pooling over kH×kW windows with a stride and padding per axis (PyTorch's tuple arguments); the
    /// stride defaults to the kernel. See <see cref="MaxPool2d(Tensor, int, int?, int, bool)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A kernel or stride below 1, or a padding outside [0, kernel/2].</exception>
    public static Tensor MaxPool2d(this Tensor x, (int Height, int Width) kernel, (int Height, int Width)? stride = null,
        (int Height, int Width)? padding = null, bool ceilMode = false)
    {
        var g = PoolGeometry.Create(x, kernel, stride ?? kernel, padding ?? (0, 0), ceilMode, countIncludePad: true, "MaxPool2d");
        Tensor y = Tensor.Allocate(g.N, g.C, g.OutH, g.OutW);
        if (!(Autograd.Enabled && x.RequiresGrad) && Pooling.HasMaxValues(g.Describe(0)))
        {
            // Nothing will backpropagate through this: the values alone. Record attaches no node here (recording is off
            // or x needs no gradient); it is called for its anomaly-detection check of the output.
            float[] input = x.Storage, output = y.Storage;
            Parallelism.For(g.Chunks, t => Pooling.MaxValues(input, g.Describe(t), output));
            return Autograd.Record(y, "max_pool2d", [x], _ => { });
        }
        // The winners' indices live in a pooled float buffer viewed as ints, returned once the graph is freed.
        float[] winners = BufferPool.Rent(y.Numel);
        float[] xs = x.Storage, ys = y.Storage;
        Parallelism.For(g.Chunks, t => Pooling.MaxForward(xs, g.Describe(t), ys, winners));
        return Autograd.Record(y, "max_pool2d", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            // Each plane's winners lie in the same plane of x, so planes split over threads write disjoint memory.
            GradientTarget target = Autograd.GradTarget(x);
            float[] dx = target.Tensor.Storage, dys = dy.Storage;
            bool accumulate = target.Accumulate;
            int inPlane = g.H * g.W, outPlane = g.OutH * g.OutW;
            Parallelism.For(g.Chunks, t =>
            {
                PoolWindow range = g.Describe(t);
                if (!accumulate) dx.AsSpan(range.First * inPlane, (range.Last - range.First) * inPlane).Clear();
                ReadOnlySpan<int> argmax = MemoryMarshal.Cast<float, int>(winners.AsSpan(range.First * outPlane, (range.Last - range.First) * outPlane));
                ReadOnlySpan<float> grad = dys.AsSpan(range.First * outPlane, argmax.Length);
                for (int i = 0; i < argmax.Length; i++) dx[argmax[i]] += grad[i];
            });
        }, release: () => BufferPool.Return(winners));
    }

    /// <summary>Average pooling over kernel×kernel windows (stride defaults to the kernel size). Padded zeros count in
    /// the average unless <paramref name="countIncludePad"/> is false (PyTorch's <c>count_include_pad</c>); a ceil-mode
    /// window overhanging the padding divides by what it covers of the padded image, as PyTorch does.</summary>
    public static Tensor AvgPool2d(this Tensor x, int kernel, int? stride = null, int padding = 0, bool ceilMode = false,
        bool countIncludePad = true) =>
        x.AvgPool2d((kernel, kernel), stride is int s ? (s, s) : null, (padding, padding), ceilMode, countIncludePad);

    /// <summary>Average pooling over kH×kW windows with a stride and padding per axis; see
    /// <see cref="AvgPool2d(Tensor, int, int?, int, bool, bool)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A kernel or stride below 1, or a padding outside [0, kernel/2].</exception>
    public static Tensor AvgPool2d(this Tensor x, (int Height, int Width) kernel, (int Height, int Width)? stride = null,
        (int Height, int Width)? padding = null, bool ceilMode = false, bool countIncludePad = true)
    {
        var g = PoolGeometry.Create(x, kernel, stride ?? kernel, padding ?? (0, 0), ceilMode, countIncludePad, "AvgPool2d");
        Tensor y = Tensor.Allocate(g.N, g.C, g.OutH, g.OutW);
        float[] xs = x.Storage, ys = y.Storage;
        Parallelism.For(g.Chunks, t => Pooling.AvgForward(xs, g.Describe(t), ys));
        return Autograd.Record(y, "avg_pool2d", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            float[] dxs = AddingInto(x), dys = dy.Storage;
            Parallelism.For(g.Chunks, t => Pooling.AvgBackward(dys, g.Describe(t), dxs));
        });
    }

    private readonly record struct PoolGeometry(int N, int C, int H, int W, (int Height, int Width) Kernel, (int Height, int Width) Stride,
        (int Height, int Width) Padding, bool CountIncludePad, int OutH, int OutW)
    {
        public int Planes => N * C;
        public int Chunks => Math.Max(1, Math.Min(Planes, Parallelism.ThreadsFor((long)Planes * H * W)));

        public PoolWindow Describe(int chunk) => new(H, W, Kernel.Height, Kernel.Width, Stride.Height, Stride.Width, Padding.Height,
            Padding.Width, OutH, OutW, (int)((long)Planes * chunk / Chunks), (int)((long)Planes * (chunk + 1) / Chunks), CountIncludePad);

        public static PoolGeometry Create(Tensor x, (int Height, int Width) kernel, (int Height, int Width) stride, (int Height, int Width) padding,
            bool ceilMode, bool countIncludePad, string op)
        {
            ArgumentNullException.ThrowIfNull(x);
            if (x.Rank != 4) throw new ArgumentException($"{op}: expects input (N, C, H, W), got {Shapes.Format(x.Dims)}.", nameof(x));
            if (kernel.Height < 1 || kernel.Width < 1)
                throw new ArgumentOutOfRangeException(nameof(kernel), kernel, $"{op}: kernel must be at least 1 along each axis.");
            if (stride.Height < 1 || stride.Width < 1)
                throw new ArgumentOutOfRangeException(nameof(stride), stride, $"{op}: stride must be at least 1 along each axis.");
            if (padding.Height < 0 || padding.Width < 0 || padding.Height > kernel.Height / 2 || padding.Width > kernel.Width / 2)
                throw new ArgumentOutOfRangeException(nameof(padding), padding,
                    $"{op}: padding must be between 0 and half the kernel ({kernel.Height / 2}, {kernel.Width / 2}).");
            int h = x.Dims[2], w = x.Dims[3];
            if (h + 2 * padding.Height < kernel.Height || w + 2 * padding.Width < kernel.Width)
                throw new ArgumentException(
                    $"{op}: kernel {kernel.Height}×{kernel.Width} is larger than the padded input {Shapes.Format(x.Dims)} (padding {padding.Height}, {padding.Width}).", nameof(kernel));
            return new PoolGeometry(x.Dims[0], x.Dims[1], h, w, kernel, stride, padding, countIncludePad,
                OutputSize(h, kernel.Height, stride.Height, padding.Height, ceilMode), OutputSize(w, kernel.Width, stride.Width, padding.Width, ceilMode));
        }

        /// <summary>PyTorch's pooling output size: ⌊(size + 2p − k)/s⌋ + 1, or in ceil mode ⌈…⌉ + 1 less the last window
        /// when it would start past the image and its left padding.</summary>
        private static int OutputSize(int size, int kernel, int stride, int padding, bool ceilMode)
        {
            int span = size + 2 * padding - kernel;
            int output = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
            if (ceilMode && (output - 1) * stride >= size + padding) output--;
            return output;
        }
    }
}

public static partial class Ops
{
    /// <summary>Average pooling to a fixed output size (PyTorch's <c>adaptive_avg_pool2d</c>): output cell (i, j)
    /// averages input rows ⌊i·H/outH⌋ .. ⌈(i + 1)·H/outH⌉ − 1 and likewise columns, so windows may overlap or differ in
    /// size. Output 1×1 is global average pooling.</summary>
    /// <exception cref="ArgumentException">x is not (N, C, H, W), or an output size is not positive.</exception>
    public static Tensor AdaptiveAvgPool2d(this Tensor x, int outputHeight, int outputWidth)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 4) throw new ArgumentException($"AdaptiveAvgPool2d expects x of shape (N, C, H, W), got {Shapes.Format(x.Dims)}.", nameof(x));
        if (outputHeight <= 0) throw new ArgumentOutOfRangeException(nameof(outputHeight), outputHeight, "AdaptiveAvgPool2d: the output height must be positive.");
        if (outputWidth <= 0) throw new ArgumentOutOfRangeException(nameof(outputWidth), outputWidth, "AdaptiveAvgPool2d: the output width must be positive.");
        int n = x.Dims[0], c = x.Dims[1], h = x.Dims[2], w = x.Dims[3];
        if (h == 0 || w == 0) throw new ArgumentException($"AdaptiveAvgPool2d: input {Shapes.Format(x.Dims)} has an empty plane.", nameof(x));
        if (outputHeight == 1 && outputWidth == 1) return x.Mean([2, 3], keepDim: true);
        int planes = n * c, outPlane = outputHeight * outputWidth;
        Tensor y = Tensor.Allocate(n, c, outputHeight, outputWidth);
        ReadOnlySpan<float> xs = x.Values;
        Span<float> ys = y.Values;
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < outputHeight; i++)
            {
                (int r0, int r1) = AdaptiveWindow(i, h, outputHeight);
                for (int j = 0; j < outputWidth; j++)
                {
                    (int c0, int c1) = AdaptiveWindow(j, w, outputWidth);
                    float sum = 0f;
                    for (int r = r0; r < r1; r++)
                        for (int q = c0; q < c1; q++) sum += xs[p * h * w + r * w + q];
                    ys[p * outPlane + i * outputWidth + j] = sum / ((r1 - r0) * (c1 - c0));
                }
            }
        return Autograd.Record(y, "adaptive_avg_pool2d", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            Span<float> dx = Autograd.GradTarget(x).ForAdding();
            ReadOnlySpan<float> g = dy.Values;
            for (int p = 0; p < planes; p++)
                for (int i = 0; i < outputHeight; i++)
                {
                    (int r0, int r1) = AdaptiveWindow(i, h, outputHeight);
                    for (int j = 0; j < outputWidth; j++)
                    {
                        (int c0, int c1) = AdaptiveWindow(j, w, outputWidth);
                        float share = g[p * outPlane + i * outputWidth + j] / ((r1 - r0) * (c1 - c0));
                        for (int r = r0; r < r1; r++)
                            for (int q = c0; q < c1; q++) dx[p * h * w + r * w + q] += share;
                    }
                }
        });
    }

    /// <summary>The input range [start, end) of adaptive output cell <paramref name="i"/>.</summary>
    private static (int Start, int End) AdaptiveWindow(int i, int size, int outputSize) =>
        ((int)((long)i * size / outputSize), (int)(((long)(i + 1) * size + outputSize - 1) / outputSize));
}
