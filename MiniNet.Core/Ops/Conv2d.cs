using System.Numerics.Tensors;
using MiniNet.Kernels;

namespace MiniNet;

public static partial class Ops
{
    /// <summary>2-D cross-correlation, as <c>torch.nn.functional.conv2d</c>:
    /// y[n, o, i, j] = b[o] + Σ_{c,u,v} w[o, c, u, v]·x[n, c, i·s − p + u, j·s − p + v], zero outside the image.</summary>
    /// <remarks>Shapes: x (N, C, H, W), weight (O, C, kH, kW), bias (O) or null → y (N, O, ⌊(H + 2p − kH)/s⌋ + 1, ⌊(W + 2p − kW)/s⌋ + 1).
    /// Per image: unfold x into columns (C·kH·kW, oH·oW) and multiply, y = W·cols (one GEMM). Images are split
    /// statically over threads; weight gradients are summed per thread and then in thread order, so results are reproducible.</remarks>
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

        int oh = (h + 2 * padding - kh) / stride + 1, ow = (w + 2 * padding - kw) / stride + 1;
        var g = new ConvGeometry(c, h, w, kh, kw, stride, padding, oh, ow);
        Tensor y = Tensor.Empty(n, o, oh, ow);
        float[] xs = x.Storage, ws = weight.Storage, ys = y.Storage;
        float[]? bs = bias?.Storage;
        int outPlane = oh * ow;
        ForEachImageChunk(n, g, (_, first, last, columns) =>
        {
            for (int i = first; i < last; i++)
            {
                ReadOnlySpan<float> cols = g.Unfold(xs.AsSpan(i * c * h * w, c * h * w), columns);
                Span<float> yi = ys.AsSpan(i * o * outPlane, o * outPlane);
                Gemm.Multiply(false, false, o, outPlane, g.Rows, ws, g.Rows, cols, outPlane, yi, outPlane, accumulate: false, parallel: false);
                if (bs is not null)
                    for (int ch = 0; ch < o; ch++) TensorPrimitives.Add(yi.Slice(ch * outPlane, outPlane), bs[ch], yi.Slice(ch * outPlane, outPlane));
            }
        });

        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Autograd.Record(y, "conv2d", inputs, dy =>
        {
            float[] dys = dy.Storage;
            if (bias is { RequiresGrad: true })
            {
                Span<float> db = bias.Grad!.Data;
                for (int i = 0; i < n; i++)
                    for (int ch = 0; ch < o; ch++) db[ch] += TensorPrimitives.Sum(dys.AsSpan((i * o + ch) * outPlane, outPlane));
            }
            if (!x.RequiresGrad && !weight.RequiresGrad) return;
            int chunks = Math.Min(n, Parallelism.MaxThreads);
            float[][] partialDw = new float[weight.RequiresGrad ? chunks : 0][];
            for (int t = 0; t < partialDw.Length; t++) partialDw[t] = new float[weight.Numel];
            float[]? dxs = x.RequiresGrad ? x.Grad!.Storage : null;
            ForEachImageChunk(n, g, (chunk, first, last, columns) =>
            {
                float[] dcols = dxs is null ? [] : new float[g.Rows * outPlane];
                for (int i = first; i < last; i++)
                {
                    ReadOnlySpan<float> dyi = dys.AsSpan(i * o * outPlane, o * outPlane);
                    if (partialDw.Length > 0)
                    {
                        // dW += dYᵢ·colsᵢᵀ : (O, oH·oW)·(oH·oW, C·kH·kW)
                        ReadOnlySpan<float> cols = g.Unfold(xs.AsSpan(i * c * h * w, c * h * w), columns);
                        Gemm.Multiply(false, true, o, g.Rows, outPlane, dyi, outPlane, cols, outPlane, partialDw[chunk], g.Rows, accumulate: true, parallel: false);
                    }
                    if (dxs is not null)
                    {
                        // dcols = Wᵀ·dYᵢ, then fold the columns back onto the image.
                        Gemm.Multiply(true, false, g.Rows, outPlane, o, ws, g.Rows, dyi, outPlane, dcols, outPlane, accumulate: false, parallel: false);
                        g.FoldAdd(dcols, dxs.AsSpan(i * c * h * w, c * h * w));
                    }
                }
            }, chunks);
            if (weight.RequiresGrad)
                foreach (float[] part in partialDw) TensorPrimitives.Add(weight.Grad!.Data, part, weight.Grad!.Data);
        });
    }

    /// <summary>The unfolding geometry of one image; a 1×1, stride-1, unpadded kernel needs no unfolding.</summary>
    private readonly record struct ConvGeometry(int Channels, int H, int W, int KH, int KW, int Stride, int Padding, int OutH, int OutW)
    {
        public int Rows => Channels * KH * KW;
        public bool IsIdentity => KH == 1 && KW == 1 && Stride == 1 && Padding == 0;

        public ReadOnlySpan<float> Unfold(ReadOnlySpan<float> image, float[] columns)
        {
            if (IsIdentity) return image;
            Layout.Im2Col(image, Channels, H, W, KH, KW, Stride, Padding, OutH, OutW, columns);
            return columns;
        }

        public void FoldAdd(ReadOnlySpan<float> columns, Span<float> image)
        {
            if (IsIdentity) TensorPrimitives.Add(image, columns, image);
            else Layout.Col2ImAdd(columns, Channels, H, W, KH, KW, Stride, Padding, OutH, OutW, image);
        }
    }

    /// <summary>Splits images 0..n into <paramref name="chunks"/> contiguous ranges, one per thread, each with its own column buffer.</summary>
    private static void ForEachImageChunk(int n, ConvGeometry g, Action<int, int, int, float[]> body, int chunks = 0)
    {
        if (chunks <= 0) chunks = Math.Min(n, Parallelism.MaxThreads);
        if (n == 0) return;
        Parallelism.For(chunks, t =>
        {
            float[] columns = g.IsIdentity ? [] : new float[g.Rows * g.OutH * g.OutW];
            body(t, (int)((long)n * t / chunks), (int)((long)n * (t + 1) / chunks), columns);
        });
    }
}
