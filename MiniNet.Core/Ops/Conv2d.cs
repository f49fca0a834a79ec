using MiniNet.Kernels;

namespace MiniNet;

public static partial class Ops
{
    /// <summary>2-D cross-correlation, as <c>torch.nn.functional.conv2d</c>:
    /// y[n, o, i, j] = b[o] + Σ_{c,u,v} w[o, c, u, v]·x[n, c, i·s − p + u, j·s − p + v], zero outside the image.</summary>
    /// <remarks>
    /// Shapes: x (N, C, H, W), weight (O, C, kH, kW), bias (O) or null → y (N, O, ⌊(H + 2p − kH)/s⌋ + 1, ⌊(W + 2p − kW)/s⌋ + 1).
    /// <para>Computed as one matrix product per image over its unfolded columns (Kernels/Convolution.cs); backward
    /// dW += Σ_n dY_n·cols_nᵀ, dx += fold(Wᵀ·dY_n), db += Σ dY. Results do not depend on thread scheduling.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">Wrong ranks, channel mismatch, a kernel larger than the padded input, or bad stride/padding.</exception>
    public static Tensor Conv2d(this Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0)
    {
        Convolution.Geometry g = CheckConv("Conv2d", x, weight, bias, stride, padding);
        int n = x.Dims[0], o = weight.Dims[0];
        Tensor y = Tensor.Allocate(n, o, g.OutH, g.OutW);
        Convolution.Forward(x.Storage, n, weight.Storage, o, g, y.Storage, null, null, FusedActivation.None);
        if (bias is not null) Convolution.AddBias(y.Storage, n, o, g.Plane, bias.Values);

        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Autograd.Record(y, "conv2d", inputs, dy =>
        {
            if (bias is { RequiresGrad: true }) Convolution.BiasGradient(dy.Storage, n, o, g.Plane, Autograd.GradTarget(bias).ForAdding());
            if (n == 0) return;   // an empty batch adds nothing: untouched gradients read as zeros
            float[]? dx = null, dw = null;
            bool accumulateX = false, accumulateW = false;
            if (x.RequiresGrad)
            {
                GradientTarget target = Autograd.GradTarget(x);
                (dx, accumulateX) = (target.Tensor.Storage, target.Accumulate);
            }
            if (weight.RequiresGrad)
            {
                GradientTarget target = Autograd.GradTarget(weight);
                (dw, accumulateW) = (target.Tensor.Storage, target.Accumulate);
            }
            Convolution.Backward(x.Storage, n, weight.Storage, o, g, dy.Storage, dx, accumulateX, dw, accumulateW);
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
        Convolution.Geometry g = CheckConv("Conv2dAffine", x, weight, bias, stride, padding);
        CheckScaleShift("Conv2dAffine", weight.Dims[0], scale, shift, activation);
        if (Autograd.Enabled && (x.RequiresGrad || weight.RequiresGrad || bias is { RequiresGrad: true }))
            throw new InvalidOperationException(
                "Conv2dAffine is inference-only and records no graph: call it under Autograd.NoGrad(), or use Conv2d, BatchNorm and the activation.");
        CheckAffineInputs("conv2d_affine", x, weight.Values, weight.Shape, bias, scale, shift);
        return ConvAffine(x, weight.Storage, weight.Dims[0], g, scale.ToArray(), FoldBias(bias, scale, shift), activation, null);
    }

    /// <summary><see cref="Conv2dAffine(Tensor, Tensor, Tensor?, ReadOnlySpan{float}, ReadOnlySpan{float}, FusedActivation, int, int)"/>
    /// with a weight packed once (<see cref="PackedWeight.ForConv2d"/>; a frozen layer's): bitwise equal to the unpacked
    /// op with the same values.</summary>
    /// <exception cref="ArgumentException">Shapes as <see cref="Conv2d"/>, or bias, scale and shift not O values each.</exception>
    /// <exception cref="InvalidOperationException">Gradient recording is on and x requires grad.</exception>
    public static Tensor Conv2dAffine(this Tensor x, PackedWeight weight, Tensor? bias, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        FusedActivation activation, int stride = 1, int padding = 0)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Kind != PackedWeight.Layout.Conv2d)
            throw new ArgumentException($"Conv2dAffine: the packed weight {Shapes.Format(weight.Shape)} was packed for a linear layer, not a convolution.", nameof(weight));
        Convolution.Geometry g = CheckConv("Conv2dAffine", x, weight.Values, bias, stride, padding);
        int o = weight.Values.Dims[0];
        CheckScaleShift("Conv2dAffine", o, scale, shift, activation);
        if (Autograd.Enabled && x.RequiresGrad)
            throw new InvalidOperationException(
                "Conv2dAffine is inference-only and records no graph: call it under Autograd.NoGrad(), or on a tensor that does not require grad.");
        CheckAffineInputs("conv2d_affine", x, weight.Values.Values, weight.Shape, bias, scale, shift);
        return ConvAffine(x, weight.Values.Storage, o, g, scale.ToArray(), FoldBias(bias, scale, shift), activation, weight.PackedA);
    }

    private static Tensor ConvAffine(Tensor x, float[] weight, int o, in Convolution.Geometry g, float[] scale, float[] shift,
        FusedActivation activation, PackedA? packed)
    {
        int n = x.Dims[0];
        Tensor y = Tensor.Allocate(n, o, g.OutH, g.OutW);
        Convolution.Forward(x.Storage, n, weight, o, g, y.Storage, scale, shift, activation, packed);
        Autograd.CheckFinite(y, "conv2d_affine", "its output");
        return y;
    }

    /// <summary>Validates the arguments of <paramref name="op"/> (x (N, C, H, W), weight (O, C, kH, kW), bias (O) or null)
    /// and returns the unfolding geometry.</summary>
    private static Convolution.Geometry CheckConv(string op, Tensor x, Tensor weight, Tensor? bias, int stride, int padding)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (x.Rank != 4 || weight.Rank != 4)
            throw new ArgumentException(
                $"{op}: expects input (N, C, H, W) and weight (O, C, kH, kW), got {Shapes.Format(x.Dims)} and {Shapes.Format(weight.Dims)}.", nameof(x));
        CheckConvWeight(op, weight, bias, stride, padding);
        int c = x.Dims[1], h = x.Dims[2], w = x.Dims[3];
        int kh = weight.Dims[2], kw = weight.Dims[3];
        if (weight.Dims[1] != c)
            throw new ArgumentException(
                $"{op}: input {Shapes.Format(x.Dims)} has {c} channels but weight {Shapes.Format(weight.Dims)} expects {weight.Dims[1]}.", nameof(weight));
        if (h + 2 * padding < kh || w + 2 * padding < kw)
            throw new ArgumentException(
                $"{op}: kernel {kh}×{kw} is larger than the padded input {h + 2 * padding}×{w + 2 * padding} (input {Shapes.Format(x.Dims)}, padding {padding}).", nameof(x));

        return new Convolution.Geometry(c, h, w, kh, kw, stride, padding, (h + 2 * padding - kh) / stride + 1, (w + 2 * padding - kw) / stride + 1);
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
}
