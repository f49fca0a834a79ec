namespace MiniNet.Layers;

/// <summary>Shared settings of the 2-D pooling layers: a square window, its step, and implicit padding.</summary>
public abstract class Pool2d : Module
{
    /// <summary>Validates and stores the window; stride defaults to the kernel size.</summary>
    /// <exception cref="ArgumentOutOfRangeException">kernel or stride below 1, or padding outside [0, kernel/2].</exception>
    protected Pool2d(int kernel, int? stride, int padding)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel);
        if (stride is < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, $"{GetType().Name}: stride must be at least 1.");
        if (padding < 0 || padding > kernel / 2)
            throw new ArgumentOutOfRangeException(nameof(padding), padding, $"{GetType().Name}: padding must be in [0, kernel/2].");
        (Kernel, Stride, Padding) = (kernel, stride ?? kernel, padding);
    }

    /// <summary>Window size.</summary>
    public int Kernel { get; }

    /// <summary>Window step.</summary>
    public int Stride { get; }

    /// <summary>Implicit padding on every side.</summary>
    public int Padding { get; }

    /// <inheritdoc/>
    protected override string Describe() => $"{GetType().Name}(kernel: {Kernel}, stride: {Stride}, padding: {Padding})";
}

/// <summary>Max over kernel×kernel windows of (N, C, H, W) input; padding never wins.</summary>
public sealed class MaxPool2d(int kernel, int? stride = null, int padding = 0) : Pool2d(kernel, stride, padding)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.MaxPool2d(Kernel, Stride, Padding);
}

/// <summary>Average over kernel×kernel windows of (N, C, H, W) input; padded zeros count in the average.</summary>
public sealed class AvgPool2d(int kernel, int? stride = null, int padding = 0) : Pool2d(kernel, stride, padding)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.AvgPool2d(Kernel, Stride, Padding);
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
