namespace MiniNet.Layers;

/// <summary>2-D convolution (cross-correlation) over (N, C, H, W) images, as PyTorch's <c>nn.Conv2d</c>.</summary>
/// <remarks>Weight (out, in, k, k) and bias (out), initialised U(−1/√(in·k²), 1/√(in·k²)). Output
/// (N, out, ⌊(H + 2p − k)/s⌋ + 1, ⌊(W + 2p − k)/s⌋ + 1). Before a BatchNorm2d, use <c>bias: false</c>.</remarks>
public sealed class Conv2d : Module
{
    /// <summary>Kernel weights, shape (out, in, k, k).</summary>
    public Parameter Weight { get; }

    /// <summary>Per-output-channel bias (out), or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Square kernel size k.</summary>
    public int KernelSize { get; }

    /// <summary>Stride s.</summary>
    public int Stride { get; }

    /// <summary>Zero padding p on every side.</summary>
    public int Padding { get; }

    /// <summary>Creates the layer; the generator defaults to <see cref="Rng.Default"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or padding is negative.</exception>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = true,
        System.Random? generator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        (InChannels, OutChannels, KernelSize, Stride, Padding) = (inChannels, outChannels, kernelSize, stride, padding);
        generator ??= Rng.Default;
        int fanIn = inChannels * kernelSize * kernelSize;
        // PyTorch's default: kaiming_uniform(a = √5) for the weight, U(±1/√fanIn) for the bias.
        Weight = RegisterParameter("weight", Init.KaimingUniform([outChannels, inChannels, kernelSize, kernelSize], fanIn, generator));
        if (bias) Bias = RegisterParameter("bias", Init.FanInUniform([outChannels], fanIn, generator));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 4 || x.Shape[1] != InChannels)
            throw new ArgumentException($"Conv2d expects x of shape (N, {InChannels}, H, W), got {Shapes.Format(x.Shape)}.", nameof(x));
        return x.Conv2d(Weight, Bias, Stride, Padding);
    }

    /// <inheritdoc/>
    protected override string Describe() =>
        $"Conv2d({InChannels}, {OutChannels}, kernelSize: {KernelSize}, stride: {Stride}, padding: {Padding}, bias: {Bias is not null})";
}
