namespace MiniNet.Layers;

/// <summary>Shared settings of the 2-D pooling layers: a window (square or kH×kW), its step, implicit padding, and
/// whether a last partial window counts (ceil mode).</summary>
public abstract class Pool2d : Module
{
    /// <summary>Validates and stores the window; stride defaults to the kernel size.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A kernel or stride below 1, or a padding outside [0, kernel/2].</exception>
    protected Pool2d((int Height, int Width) kernel, (int Height, int Width)? stride, (int Height, int Width) padding, bool ceilMode)
    {
        if (kernel.Height < 1 || kernel.Width < 1)
            throw new ArgumentOutOfRangeException(nameof(kernel), kernel, $"{GetType().Name}: kernel must be at least 1 along each axis.");
        if (stride is { } s && (s.Height < 1 || s.Width < 1))
            throw new ArgumentOutOfRangeException(nameof(stride), stride, $"{GetType().Name}: stride must be at least 1 along each axis.");
        if (padding.Height < 0 || padding.Width < 0 || padding.Height > kernel.Height / 2 || padding.Width > kernel.Width / 2)
            throw new ArgumentOutOfRangeException(nameof(padding), padding, $"{GetType().Name}: padding must be in [0, kernel/2].");
        (Kernel, Stride, Padding, CeilMode) = (kernel, stride ?? kernel, padding, ceilMode);
    }

    /// <summary>The square-window form of the constructor.</summary>
    protected Pool2d(int kernel, int? stride, int padding, bool ceilMode)
        : this((kernel, kernel), stride is int s ? (s, s) : null, (padding, padding), ceilMode) { }

    /// <summary>Window height and width.</summary>
    public (int Height, int Width) Kernel { get; }

    /// <summary>Window step along height and width.</summary>
    public (int Height, int Width) Stride { get; }

    /// <summary>Implicit padding on each side, along height and width.</summary>
    public (int Height, int Width) Padding { get; }

    /// <summary>Whether the output size rounds up, keeping a last partial window (PyTorch's <c>ceil_mode</c>).</summary>
    public bool CeilMode { get; }

    /// <summary>A pair as PyTorch prints it: one number when both are equal.</summary>
    private protected static string Pair((int A, int B) p) => p.A == p.B ? $"{p.A}" : $"({p.A}, {p.B})";

    /// <inheritdoc/>
    protected override string Describe() =>
        $"{GetType().Name}(kernel: {Pair(Kernel)}, stride: {Pair(Stride)}, padding: {Pair(Padding)}{(CeilMode ? ", ceilMode: true" : "")})";
}

/// <summary>Max over windows of (N, C, H, W) input; padding never wins (PyTorch's <c>nn.MaxPool2d</c>).</summary>
public sealed class MaxPool2d : Pool2d
{
    /// <summary>Square windows; the stride defaults to the kernel.</summary>
    public MaxPool2d(int kernel, int? stride = null, int padding = 0, bool ceilMode = false) : base(kernel, stride, padding, ceilMode) { }

    /// <summary>kH×kW windows with a stride and padding per axis.</summary>
    public MaxPool2d((int Height, int Width) kernel, (int Height, int Width)? stride = null, (int Height, int Width)? padding = null,
        bool ceilMode = false) : base(kernel, stride, padding ?? (0, 0), ceilMode) { }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.MaxPool2d(Kernel, Stride, Padding, CeilMode);
}

/// <summary>Average over windows of (N, C, H, W) input (PyTorch's <c>nn.AvgPool2d</c>); padded zeros count in the
/// average unless <see cref="CountIncludePad"/> is false.</summary>
public sealed class AvgPool2d : Pool2d
{
    /// <summary>Square windows; the stride defaults to the kernel.</summary>
    public AvgPool2d(int kernel, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
        : base(kernel, stride, padding, ceilMode) => CountIncludePad = countIncludePad;

    /// <summary>kH×kW windows with a stride and padding per axis.</summary>
    public AvgPool2d((int Height, int Width) kernel, (int Height, int Width)? stride = null, (int Height, int Width)? padding = null,
        bool ceilMode = false, bool countIncludePad = true) : base(kernel, stride, padding ?? (0, 0), ceilMode) => CountIncludePad = countIncludePad;

    /// <summary>Whether the padding's zeros count in each window's average.</summary>
    public bool CountIncludePad { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.AvgPool2d(Kernel, Stride, Padding, CeilMode, CountIncludePad);

    /// <inheritdoc/>
    protected override string Describe() =>
        $"AvgPool2d(kernel: {Pair(Kernel)}, stride: {Pair(Stride)}, padding: {Pair(Padding)}{(CeilMode ? ", ceilMode: true" : "")}{(CountIncludePad ? "" : ", countIncludePad: false")})";
}

/// <summary>Average pooling of (N, C, H, W) input to a fixed output size (PyTorch's AdaptiveAvgPool2d); the default
/// 1×1 is global average pooling, the head of ResNet-style nets.</summary>
public sealed class AdaptiveAvgPool2d : Module
{
    /// <summary>Pools to <paramref name="outputHeight"/>×<paramref name="outputWidth"/> (1×1 by default).</summary>
    public AdaptiveAvgPool2d(int outputHeight = 1, int? outputWidth = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputHeight);
        OutputHeight = outputHeight;
        OutputWidth = outputWidth ?? outputHeight;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(OutputWidth, nameof(outputWidth));
    }

    /// <summary>The output height.</summary>
    public int OutputHeight { get; }

    /// <summary>The output width.</summary>
    public int OutputWidth { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.AdaptiveAvgPool2d(OutputHeight, OutputWidth);

    /// <inheritdoc/>
    protected override string Describe() => $"AdaptiveAvgPool2d({OutputHeight}, {OutputWidth})";
}
