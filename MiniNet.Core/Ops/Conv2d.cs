using System.Numerics.Tensors;
using MiniNet.Kernels;

namespace MiniNet;

public static partial class Ops
{
    /// <summary>Working-set cap for the unfolded columns of one chunk of images (floats).</summary>
    private const int MaxColumnFloats = 4 << 20;

    /// <summary>2-D cross-correlation, as <c>torch.nn.functional.conv2d</c>:
    /// y[n, o, i, j] = b[o] + Σ_{c,u,v} w[o, c, u, v]·x[n, c, i·s − p + u, j·s − p + v], zero outside the image.</summary>
    /// <remarks>
    /// Shapes: x (N, C, H, W), weight (O, C, kH, kW), bias (O) or null → y (N, O, ⌊(H + 2p − kH)/s⌋ + 1, ⌊(W + 2p − kW)/s⌋ + 1).
    /// <para>Algorithm: images are taken in chunks whose unfolded columns fit in 16 MB (a training batch is usually one
    /// chunk). A chunk of nb images is unfolded side by side into one (C·kH·kW, nb·oH·oW) matrix, so each pass is a
    /// single large GEMM that uses every core: y = W·cols, dW += dY·colsᵀ, dcols = Wᵀ·dY (then folded back onto dx).
    /// Columns of a one-chunk batch are kept from the forward pass for the backward pass; larger inputs unfold again.
    /// Every reduction runs in a fixed order, so results do not depend on thread scheduling.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">Wrong ranks, channel mismatch, a kernel larger than the padded input, or bad stride/padding.</exception>
    public static Tensor Conv2d(this Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (x.Rank != 4 || weight.Rank != 4)
            throw new ArgumentException(
                $"Conv2d: expects input (N, C, H, W) and weight (O, C, kH, kW), got {Shapes.Format(x.Dims)} and {Shapes.Format(weight.Dims)}.");
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "Conv2d: stride must be at least 1.");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "Conv2d: padding must be non-negative.");
        int n = x.Dims[0], c = x.Dims[1], h = x.Dims[2], w = x.Dims[3];
        int o = weight.Dims[0], kh = weight.Dims[2], kw = weight.Dims[3];
        if (weight.Dims[1] != c)
            throw new ArgumentException(
                $"Conv2d: input {Shapes.Format(x.Dims)} has {c} channels but weight {Shapes.Format(weight.Dims)} expects {weight.Dims[1]}.");
        if (bias is not null && (bias.Rank != 1 || bias.Dims[0] != o))
            throw new ArgumentException($"Conv2d: bias must have shape ({o}), got {Shapes.Format(bias.Dims)}.");
        if (h + 2 * padding < kh || w + 2 * padding < kw)
            throw new ArgumentException(
                $"Conv2d: kernel {kh}×{kw} is larger than the padded input {h + 2 * padding}×{w + 2 * padding} (input {Shapes.Format(x.Dims)}, padding {padding}).");

        var g = new ConvGeometry(c, h, w, kh, kw, stride, padding, (h + 2 * padding - kh) / stride + 1, (w + 2 * padding - kw) / stride + 1);
        int plane = g.OutH * g.OutW, rows = g.Rows;
        int chunk = Math.Clamp(MaxColumnFloats / Math.Max(1, rows * plane), 1, Math.Max(1, n));
        Tensor y = Tensor.Allocate(n, o, g.OutH, g.OutW);
        float[] xs = x.Storage, ws = weight.Storage, ys = y.Storage;
        bool keepColumns = n <= chunk && Autograd.Enabled && (weight.RequiresGrad || x.RequiresGrad);
        float[]? savedColumns = null;

        float[] product = BufferPool.Rent(o * Math.Min(chunk, n) * plane);
        for (int n0 = 0; n0 < n; n0 += chunk)
        {
            int nb = Math.Min(chunk, n - n0), width = nb * plane;
            float[] columns = BufferPool.Rent(rows * width);
            g.Unfold(xs, n0, nb, columns);
            // (O, R)·(R, nb·HW) → (O, nb·HW), then to (nb, O, HW).
            Gemm.Multiply(false, false, o, width, rows, ws, rows, columns, width, product, width, accumulate: false);
            Layout.SwapOuter(product.AsSpan(0, o * width), o, nb, plane, ys.AsSpan(n0 * o * plane, nb * o * plane));
            if (keepColumns) savedColumns = columns;
            else BufferPool.Return(columns);
        }
        BufferPool.Return(product);
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
            if (!x.RequiresGrad && !weight.RequiresGrad) return;
            float[] dyT = BufferPool.Rent(o * Math.Min(chunk, n) * plane);
            for (int n0 = 0; n0 < n; n0 += chunk)
            {
                int nb = Math.Min(chunk, n - n0), width = nb * plane;
                Layout.SwapOuter(dys.AsSpan(n0 * o * plane, nb * o * plane), nb, o, plane, dyT);   // (nb, O, HW) → (O, nb·HW)
                if (weight.RequiresGrad)
                {
                    float[] columns = savedColumns ?? BufferPool.Rent(rows * width);
                    if (savedColumns is null) g.Unfold(xs, n0, nb, columns);
                    // dW += dY·colsᵀ : (O, nb·HW)·(nb·HW, R)
                    Gemm.Multiply(false, true, o, rows, width, dyT, width, columns, width, weight.Grad!.Storage, rows, accumulate: true);
                    if (savedColumns is null) BufferPool.Return(columns);
                }
                if (x.RequiresGrad)
                {
                    // dcols = Wᵀ·dY : (R, O)·(O, nb·HW), folded back onto the images.
                    float[] dcolumns = BufferPool.Rent(rows * width);
                    Gemm.Multiply(true, false, rows, width, o, ws, rows, dyT, width, dcolumns, width, accumulate: false);
                    g.FoldAdd(dcolumns, n0, nb, x.Grad!.Storage);
                    BufferPool.Return(dcolumns);
                }
            }
            BufferPool.Return(dyT);
        }, release: savedColumns is null ? null : () => BufferPool.Return(savedColumns));
    }

    /// <summary>The unfolding geometry of one image.</summary>
    private readonly record struct ConvGeometry(int Channels, int H, int W, int KH, int KW, int Stride, int Padding, int OutH, int OutW)
    {
        public int Rows => Channels * KH * KW;

        /// <summary>Unfolds images n0 … n0 + nb − 1 side by side into a (Rows, nb·oH·oW) matrix, images split over threads.</summary>
        public void Unfold(float[] x, int n0, int nb, float[] columns)
        {
            var self = this;
            int plane = OutH * OutW, imageSize = Channels * H * W, threads = Math.Min(nb, Parallelism.ThreadsFor((long)nb * Rows * plane));
            Parallelism.For(threads, t =>
            {
                for (int i = nb * t / threads; i < nb * (t + 1) / threads; i++)
                    Layout.Im2Col(x.AsSpan((n0 + i) * imageSize, imageSize), self.Channels, self.H, self.W, self.KH, self.KW,
                        self.Stride, self.Padding, self.OutH, self.OutW, columns.AsSpan(i * plane), nb * plane);
            });
        }

        /// <summary>dx[n0 … n0 + nb − 1] += fold(columns), images split over threads (each writes only its own image).</summary>
        public void FoldAdd(float[] columns, int n0, int nb, float[] dx)
        {
            var self = this;
            int plane = OutH * OutW, imageSize = Channels * H * W, threads = Math.Min(nb, Parallelism.ThreadsFor((long)nb * Rows * plane));
            Parallelism.For(threads, t =>
            {
                for (int i = nb * t / threads; i < nb * (t + 1) / threads; i++)
                    Layout.Col2ImAdd(columns.AsSpan(i * plane), self.Channels, self.H, self.W, self.KH, self.KW,
                        self.Stride, self.Padding, self.OutH, self.OutW, dx.AsSpan((n0 + i) * imageSize, imageSize), nb * plane);
            });
        }
    }
}
