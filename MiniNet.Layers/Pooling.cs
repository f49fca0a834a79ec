namespace MiniNet.Layers;

/// <summary>Max over kernel×kernel windows of (N, C, H, W) input; stride defaults to the kernel size.</summary>
public sealed class MaxPool2d : Module
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">kernel or stride below 1, or padding outside [0, kernel/2].</exception>
    public MaxPool2d(int kernel, int? stride = null, int padding = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel);
        if (stride is < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "MaxPool2d: stride must be at least 1.");
        if (padding < 0 || padding > kernel / 2) throw new ArgumentOutOfRangeException(nameof(padding), padding, "MaxPool2d: padding must be in [0, kernel/2].");
        (Kernel, Stride, Padding) = (kernel, stride ?? kernel, padding);
    }

    /// <summary>Window size.</summary>
    public int Kernel { get; }

    /// <summary>Window step.</summary>
    public int Stride { get; }

    /// <summary>Implicit −∞ padding on every side.</summary>
    public int Padding { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.MaxPool2d(Kernel, Stride, Padding);
}

/// <summary>Average over kernel×kernel windows of (N, C, H, W) input; stride defaults to the kernel size.</summary>
public sealed class AvgPool2d : Module
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">kernel or stride below 1, or padding outside [0, kernel/2].</exception>
    public AvgPool2d(int kernel, int? stride = null, int padding = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel);
        if (stride is < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "AvgPool2d: stride must be at least 1.");
        if (padding < 0 || padding > kernel / 2) throw new ArgumentOutOfRangeException(nameof(padding), padding, "AvgPool2d: padding must be in [0, kernel/2].");
        (Kernel, Stride, Padding) = (kernel, stride ?? kernel, padding);
    }

    /// <summary>Window size.</summary>
    public int Kernel { get; }

    /// <summary>Window step.</summary>
    public int Stride { get; }

    /// <summary>Implicit zero padding on every side (counted in the average).</summary>
    public int Padding { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.AvgPool2d(Kernel, Stride, Padding);
}
