namespace MiniNet.Layers;

/// <summary>2-D convolution (cross-correlation) over (N, C, H, W) images, as PyTorch's <c>nn.Conv2d</c>: square or
/// rectangular kernels, a stride and padding per axis or <c>padding: "same"</c>, dilation and groups (depthwise with
/// groups = in).</summary>
/// <remarks>Weight (out, in/groups, kH, kW) and bias (out), initialised U(−1/√fanIn, 1/√fanIn) with
/// fanIn = in/groups·kH·kW. Output (N, out, ⌊(H + pTop + pBottom − dH·(kH − 1) − 1)/sH⌋ + 1, likewise for W). Before a
/// BatchNorm2d, use <c>bias: false</c>.</remarks>
public sealed class Conv2d : Module
{
    /// <summary>Kernel weights, shape (out, in/groups, kH, kW).</summary>
    public Parameter Weight { get; }

    /// <summary>Per-output-channel bias (out), or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>The kernel's height and width.</summary>
    public (int Height, int Width) KernelSize { get; }

    /// <summary>The stride along height and width.</summary>
    public (int Height, int Width) Stride { get; }

    /// <summary>Zero padding on each side (for "same", worked out from the kernel and dilation, the odd pixel after).</summary>
    public (int Top, int Left, int Bottom, int Right) Padding { get; }

    /// <summary>The spacing of the kernel's taps along height and width (1: adjacent).</summary>
    public (int Height, int Width) Dilation { get; }

    /// <summary>Groups of channels convolved apart: group g's out/groups outputs read only its in/groups inputs.</summary>
    public int Groups { get; }

    /// <summary>Whether the layer is the plain convolution (one stride, the same padding on every side, no dilation, one
    /// group) that inference fusion and <see cref="Sequential.Freeze"/> fold with a following BatchNorm2d.</summary>
    public bool IsPlain => Stride.Height == Stride.Width && Padding == (Padding.Top, Padding.Top, Padding.Top, Padding.Top)
        && Dilation == (1, 1) && Groups == 1;

    /// <summary>Creates a layer with a square kernel; the generator defaults to <see cref="Rng.Default"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size, stride, dilation or group count below 1, or a negative padding.</exception>
    /// <exception cref="ArgumentException">Groups that do not divide both channel counts.</exception>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = true,
        System.Random? generator = null, int dilation = 1, int groups = 1)
        : this(inChannels, outChannels, (kernelSize, kernelSize), (stride, stride), Sides(padding, nameof(padding)), bias, generator,
            (dilation, dilation), groups) { }

    /// <summary>Creates a layer with a rectangular kernel and per-axis stride, padding and dilation (1, 0 and 1 when not given).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size, stride, dilation or group count below 1, or a negative padding.</exception>
    /// <exception cref="ArgumentException">Groups that do not divide both channel counts.</exception>
    public Conv2d(int inChannels, int outChannels, (int Height, int Width) kernelSize, (int Height, int Width)? stride = null,
        (int Height, int Width)? padding = null, bool bias = true, System.Random? generator = null, (int Height, int Width)? dilation = null,
        int groups = 1)
        : this(inChannels, outChannels, kernelSize, stride ?? (1, 1), Sides(padding ?? (0, 0), nameof(padding)), bias, generator,
            dilation ?? (1, 1), groups) { }

    /// <summary>Creates a layer padded by name: "same" (stride 1, the output as large as the input, as PyTorch pads it)
    /// or "valid" (no padding).</summary>
    /// <exception cref="ArgumentException">Another name, "same" with a stride other than 1, or groups that do not divide both channel counts.</exception>
    public Conv2d(int inChannels, int outChannels, int kernelSize, string padding, int stride = 1, bool bias = true,
        System.Random? generator = null, int dilation = 1, int groups = 1)
        : this(inChannels, outChannels, (kernelSize, kernelSize), padding, (stride, stride), bias, generator, (dilation, dilation), groups) { }

    /// <summary>Creates a layer with a rectangular kernel padded by name ("same" or "valid").</summary>
    /// <exception cref="ArgumentException">Another name, "same" with a stride other than 1, or groups that do not divide both channel counts.</exception>
    public Conv2d(int inChannels, int outChannels, (int Height, int Width) kernelSize, string padding, (int Height, int Width)? stride = null,
        bool bias = true, System.Random? generator = null, (int Height, int Width)? dilation = null, int groups = 1)
        : this(inChannels, outChannels, kernelSize, stride ?? (1, 1),
            Ops.NamedPadding(padding, Positive(kernelSize, nameof(kernelSize)), stride ?? (1, 1), dilation ?? (1, 1)), bias, generator,
            dilation ?? (1, 1), groups) { }

    /// <summary>Creates a layer with each side's padding given on its own (as ONNX's <c>pads</c> and PyTorch's "same"
    /// padding of an even kernel need), the general form the other constructors reduce to.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size, stride, dilation or group count below 1, or a negative padding.</exception>
    /// <exception cref="ArgumentException">Groups that do not divide both channel counts.</exception>
    public Conv2d(int inChannels, int outChannels, (int Height, int Width) kernelSize, (int Height, int Width) stride,
        (int Top, int Left, int Bottom, int Right) padding, bool bias, System.Random? generator, (int Height, int Width) dilation, int groups)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        Positive(kernelSize, nameof(kernelSize));
        Positive(stride, nameof(stride));
        Positive(dilation, nameof(dilation));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groups);
        if (padding.Top < 0 || padding.Left < 0 || padding.Bottom < 0 || padding.Right < 0)
            throw new ArgumentOutOfRangeException(nameof(padding), padding, "Conv2d: padding must be non-negative.");
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d: {groups} groups must divide both {inChannels} input and {outChannels} output channels.", nameof(groups));
        (InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, Groups) = (inChannels, outChannels, kernelSize, stride, padding, dilation, groups);
        generator ??= Rng.Default;
        int fanIn = inChannels / groups * kernelSize.Height * kernelSize.Width;
        // PyTorch's default: kaiming_uniform(a = √5) for the weight, U(±1/√fanIn) for the bias.
        Weight = RegisterParameter("weight", Init.KaimingUniform([outChannels, inChannels / groups, kernelSize.Height, kernelSize.Width], fanIn, generator));
        if (bias) Bias = RegisterParameter("bias", Init.FanInUniform([outChannels], fanIn, generator));
    }

    private static (int Top, int Left, int Bottom, int Right) Sides(int padding, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(padding, name);
        return (padding, padding, padding, padding);
    }

    private static (int Top, int Left, int Bottom, int Right) Sides((int Height, int Width) padding, string name)
    {
        if (padding.Height < 0 || padding.Width < 0)
            throw new ArgumentOutOfRangeException(name, padding, "Conv2d: padding must be non-negative.");
        return (padding.Height, padding.Width, padding.Height, padding.Width);
    }

    private static (int Height, int Width) Positive((int Height, int Width) size, string name)
    {
        if (size.Height < 1 || size.Width < 1) throw new ArgumentOutOfRangeException(name, size, $"Conv2d: {name} must be at least 1 along each axis.");
        return size;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 4 || x.Shape[1] != InChannels)
            throw new ArgumentException($"Conv2d expects x of shape (N, {InChannels}, H, W), got {Shapes.Format(x.Shape)}.", nameof(x));
        return IsPlain ? x.Conv2d(Weight, Bias, Stride.Height, Padding.Top) : x.Conv2d(Weight, Bias, Stride, Padding, Dilation, Groups);
    }

    /// <inheritdoc/>
    protected override string Describe()
    {
        string Pair((int A, int B) p) => p.A == p.B ? $"{p.A}" : $"({p.A}, {p.B})";
        string padding = Padding == (Padding.Top, Padding.Left, Padding.Top, Padding.Left) ? Pair((Padding.Top, Padding.Left)) : $"{Padding}";
        string extra = (Dilation == (1, 1) ? "" : $", dilation: {Pair(Dilation)}") + (Groups == 1 ? "" : $", groups: {Groups}");
        return $"Conv2d({InChannels}, {OutChannels}, kernelSize: {Pair(KernelSize)}, stride: {Pair(Stride)}, padding: {padding}{extra}, bias: {Bias is not null})";
    }
}
