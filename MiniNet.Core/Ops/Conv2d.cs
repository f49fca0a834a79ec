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

        return RecordConvolution(y, x, weight, bias, g.Plane,
            (dy, dx, accumulateX, dw, accumulateW) => Convolution.Backward(x.Storage, n, weight.Storage, o, g, dy, dx, accumulateX, dw, accumulateW));
    }

    /// <summary>The input and weight gradient buffers a convolution's backward writes (null where none is needed) and
    /// whether each holds a sum to add to.</summary>
    private delegate void ConvolutionBackward(float[] dy, float[]? dx, bool accumulateX, float[]? dw, bool accumulateW);

    /// <summary>Records a convolution's node: the bias gradient, then <paramref name="backward"/> with the gradient
    /// targets of x and the weight (nothing for an empty batch, whose untouched gradients read as zeros).</summary>
    private static Tensor RecordConvolution(Tensor y, Tensor x, Tensor weight, Tensor? bias, int plane, ConvolutionBackward backward)
    {
        int n = x.Dims[0], o = weight.Dims[0];
        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Autograd.Record(y, "conv2d", inputs, dy =>
        {
            if (bias is { RequiresGrad: true }) Convolution.BiasGradient(dy.Storage, n, o, plane, Autograd.GradTarget(bias).ForAdding());
            if (n == 0) return;
            (float[]? dx, bool accumulateX) = Target(x);
            (float[]? dw, bool accumulateW) = Target(weight);
            backward(dy.Storage, dx, accumulateX, dw, accumulateW);
        });
    }

    /// <summary>An input's gradient buffer and whether it holds a sum to add to; none when it needs no gradient.</summary>
    private static (float[]? Storage, bool Accumulate) Target(Tensor input)
    {
        if (!input.RequiresGrad) return (null, false);
        GradientTarget target = Autograd.GradTarget(input);
        return (target.Tensor.Storage, target.Accumulate);
    }

    /// <summary>Inference-only fused convolution: y = act((conv2d(x, W) + b)·scale[o] + shift[o]), scale and shift per
    /// output channel. A convolution followed by an evaluation-mode BatchNorm2d (scale = γ/√(running σ² + ε),
    /// shift = β − running μ·scale) and an activation computes in one pass: the map is applied to each tile of each
    /// image's product while it is in cache.</summary>
    /// <remarks>Records no graph, so it refuses inputs that would need one (call it under <see cref="Autograd.NoGrad"/>).
    /// Shapes as <see cref="Conv2d(Tensor, Tensor, Tensor?, int, int)"/>; scale and shift (O).</remarks>
    /// <exception cref="ArgumentException">Shapes as <see cref="Conv2d(Tensor, Tensor, Tensor?, int, int)"/>, or scale and shift not O values each.</exception>
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
    /// <exception cref="ArgumentException">Shapes as <see cref="Conv2d(Tensor, Tensor, Tensor?, int, int)"/>, or bias, scale and shift not O values each.</exception>
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

    /// <summary>2-D convolution with PyTorch's full set of options (<c>F.conv2d(x, w, b, stride, padding, dilation,
    /// groups)</c>): a stride and a zero padding per axis, dilation (taps d apart) and groups (input and output channels
    /// in G groups, group g's outputs reading only group g's inputs; G = C is a depthwise convolution).</summary>
    /// <remarks>Shapes: x (N, C, H, W), weight (O, C/G, kH, kW), bias (O) or null → y (N, O, oH, oW) with
    /// oH = ⌊(H + 2·pH − dH·(kH − 1) − 1)/sH⌋ + 1, and likewise oW. One stride, one padding, no dilation and one group
    /// take the tuned path of <see cref="Conv2d(Tensor, Tensor, Tensor?, int, int)"/>.</remarks>
    /// <exception cref="ArgumentException">Wrong ranks, channels that the groups do not divide or that do not match the
    /// weight, or a dilated kernel larger than the padded input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A stride, dilation or group count below 1, or a negative padding.</exception>
    public static Tensor Conv2d(this Tensor x, Tensor weight, Tensor? bias, (int Height, int Width) stride, (int Height, int Width) padding,
        (int Height, int Width)? dilation = null, int groups = 1)
    {
        (int dh, int dw) = dilation ?? (1, 1);
        return Conv2d(x, weight, bias, stride, (padding.Height, padding.Width, padding.Height, padding.Width), (dh, dw), groups);
    }

    /// <summary><see cref="Conv2d(Tensor, Tensor, Tensor?, ValueTuple{int, int}, ValueTuple{int, int}, ValueTuple{int, int}?, int)"/>
    /// with padding given by name, as PyTorch's <c>padding="same"</c> (stride 1; an output as large as the input, the
    /// odd pixel of an even kernel's padding going after, as PyTorch pads) or <c>"valid"</c> (none).</summary>
    /// <exception cref="ArgumentException">Another name, or "same" with a stride other than 1.</exception>
    public static Tensor Conv2d(this Tensor x, Tensor weight, Tensor? bias, string padding, int stride = 1, int dilation = 1, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 4)
            throw new ArgumentException($"Conv2d: weight must be (O, C/groups, kH, kW), got {Shapes.Format(weight.Dims)}.", nameof(weight));
        (int top, int left, int bottom, int right) = NamedPadding(padding, (weight.Dims[2], weight.Dims[3]), (stride, stride), (dilation, dilation));
        return Conv2d(x, weight, bias, (stride, stride), (top, left, bottom, right), (dilation, dilation), groups);
    }

    /// <summary>The padding a name stands for: "valid" none, "same" the dilated kernel's extent minus one in all, half
    /// before (rounded down) and the rest after, as PyTorch computes it.</summary>
    /// <exception cref="ArgumentException">An unknown name, or "same" with a stride other than 1.</exception>
    public static (int Top, int Left, int Bottom, int Right) NamedPadding(string padding, (int Height, int Width) kernel,
        (int Height, int Width) stride, (int Height, int Width) dilation)
    {
        ArgumentNullException.ThrowIfNull(padding);
        switch (padding)
        {
            case "valid":
                return (0, 0, 0, 0);
            case "same":
                if (stride != (1, 1))
                    throw new ArgumentException($"Conv2d: padding \"same\" needs stride 1, got ({stride.Height}, {stride.Width}), as in PyTorch.", nameof(padding));
                int th = dilation.Height * (kernel.Height - 1), tw = dilation.Width * (kernel.Width - 1);
                return (th / 2, tw / 2, th - th / 2, tw - tw / 2);
            default:
                throw new ArgumentException($"Conv2d: padding \"{padding}\" is neither \"same\" nor \"valid\"; give a number for explicit padding.", nameof(padding));
        }
    }

    /// <summary>2-D convolution with the padding of each side given on its own (the general form the other overloads
    /// reduce to); see <see cref="Conv2d(Tensor, Tensor, Tensor?, ValueTuple{int, int}, ValueTuple{int, int}, ValueTuple{int, int}?, int)"/>.</summary>
    public static Tensor Conv2d(this Tensor x, Tensor weight, Tensor? bias, (int Height, int Width) stride,
        (int Top, int Left, int Bottom, int Right) padding, (int Height, int Width) dilation, int groups)
    {
        GroupedConvolution.Geometry g = CheckGroupedConv("Conv2d", x, weight, bias, stride, padding, dilation, groups);
        if (stride.Height == stride.Width && padding.Top == padding.Left && padding.Top == padding.Bottom && padding.Top == padding.Right
            && dilation == (1, 1) && groups == 1)
            return x.Conv2d(weight, bias, stride.Height, padding.Top);
        int n = x.Dims[0], o = weight.Dims[0];
        Tensor y = Tensor.Allocate(n, o, g.OutH, g.OutW);
        GroupedConvolution.Forward(x.Storage, n, weight.Storage, o, g, y.Storage);
        if (bias is not null) Convolution.AddBias(y.Storage, n, o, g.Plane, bias.Values);
        return RecordConvolution(y, x, weight, bias, g.Plane,
            (dy, dx, accumulateX, dw, accumulateW) => GroupedConvolution.Backward(x.Storage, n, weight.Storage, o, g, dy, dx, accumulateX, dw, accumulateW));
    }

    private static GroupedConvolution.Geometry CheckGroupedConv(string op, Tensor x, Tensor weight, Tensor? bias, (int Height, int Width) stride,
        (int Top, int Left, int Bottom, int Right) padding, (int Height, int Width) dilation, int groups)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (x.Rank != 4 || weight.Rank != 4)
            throw new ArgumentException(
                $"{op}: expects input (N, C, H, W) and weight (O, C/groups, kH, kW), got {Shapes.Format(x.Dims)} and {Shapes.Format(weight.Dims)}.", nameof(x));
        if (stride.Height < 1 || stride.Width < 1)
            throw new ArgumentOutOfRangeException(nameof(stride), stride, $"{op}: strides must be at least 1.");
        if (padding.Top < 0 || padding.Left < 0 || padding.Bottom < 0 || padding.Right < 0)
            throw new ArgumentOutOfRangeException(nameof(padding), padding, $"{op}: padding must be non-negative.");
        if (dilation.Height < 1 || dilation.Width < 1)
            throw new ArgumentOutOfRangeException(nameof(dilation), dilation, $"{op}: dilation must be at least 1.");
        if (groups < 1) throw new ArgumentOutOfRangeException(nameof(groups), groups, $"{op}: groups must be at least 1.");
        int o = weight.Dims[0], c = x.Dims[1], h = x.Dims[2], w = x.Dims[3], kh = weight.Dims[2], kw = weight.Dims[3];
        if (kh < 1 || kw < 1) throw new ArgumentException($"{op}: weight {Shapes.Format(weight.Dims)} has an empty kernel.", nameof(weight));
        if (bias is not null && (bias.Rank != 1 || bias.Dims[0] != o))
            throw new ArgumentException($"{op}: bias must have shape ({o}), got {Shapes.Format(bias.Dims)}.", nameof(bias));
        if (c % groups != 0 || o % groups != 0)
            throw new ArgumentException(
                $"{op}: {groups} groups must divide the input's {c} channels and the weight's {o} output channels (input {Shapes.Format(x.Dims)}, weight {Shapes.Format(weight.Dims)}).", nameof(groups));
        if (weight.Dims[1] * groups != c)
            throw new ArgumentException(
                $"{op}: input {Shapes.Format(x.Dims)} has {c} channels, so weight {Shapes.Format(weight.Dims)} in {groups} group(s) should have {c / groups} input channels per group, not {weight.Dims[1]}.", nameof(weight));
        int extentH = dilation.Height * (kh - 1) + 1, extentW = dilation.Width * (kw - 1) + 1;
        int paddedH = h + padding.Top + padding.Bottom, paddedW = w + padding.Left + padding.Right;
        if (paddedH < extentH || paddedW < extentW)
            throw new ArgumentException(
                $"{op}: the {(dilation == (1, 1) ? "" : "dilated ")}kernel {extentH}×{extentW} is larger than the padded input {paddedH}×{paddedW} (input {Shapes.Format(x.Dims)}).", nameof(x));
        return new GroupedConvolution.Geometry(c, h, w, kh, kw, stride.Height, stride.Width, padding.Top, padding.Left,
            dilation.Height, dilation.Width, groups, (paddedH - extentH) / stride.Height + 1, (paddedW - extentW) / stride.Width + 1);
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
        if (weight.Dims[2] < 1 || weight.Dims[3] < 1) throw new ArgumentException($"{op}: weight {Shapes.Format(weight.Dims)} has an empty kernel.", nameof(weight));
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, $"{op}: stride must be at least 1.");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, $"{op}: padding must be non-negative.");
    }
}
