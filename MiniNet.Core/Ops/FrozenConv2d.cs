using MiniNet.Kernels;

namespace MiniNet;

/// <summary>An inference-only convolution whose weights are fixed when it is built:
/// y = act((conv2d(x, W) + b)·scale[o] + shift[o]), scale and shift per output channel (a convolution followed by an
/// evaluation-mode BatchNorm2d folds into them). Computed as <see cref="Ops.Conv2dAffine(Tensor, Tensor, Tensor?, ReadOnlySpan{float}, ReadOnlySpan{float}, FusedActivation, int, int)"/>,
/// bitwise equal to it, with the weight packed for the matrix multiply once.</summary>
/// <remarks>A snapshot, like <see cref="FrozenLinear"/>: the weight is copied, so later changes to the tensors it was built
/// from do not reach it. It records no graph: inputs that require grad are refused while gradient recording is on.</remarks>
public sealed class FrozenConv2d
{
    private readonly Tensor _weight;
    private readonly PackedA? _packed;   // null where the packed kernels do not run
    private readonly float[] _scale, _shift;

    /// <summary>Freezes y = act((conv2d(x, W, stride, padding) + b)·scale + shift).</summary>
    /// <param name="weight">(O, C, kH, kW).</param>
    /// <param name="bias">(O), or null.</param>
    /// <param name="scale">O values.</param>
    /// <param name="shift">O values.</param>
    /// <param name="activation">Applied last.</param>
    /// <param name="stride">At least 1.</param>
    /// <param name="padding">Zero padding on each side, non-negative.</param>
    /// <exception cref="ArgumentException">Mismatched shapes, or a bad stride or padding.</exception>
    public FrozenConv2d(Tensor weight, Tensor? bias, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, FusedActivation activation,
        int stride = 1, int padding = 0)
    {
        Ops.CheckConvWeight("FrozenConv2d", weight, bias, stride, padding);
        int o = weight.Dims[0];
        Ops.CheckScaleShift("FrozenConv2d", o, scale, shift, activation);
        _weight = weight.Clone();
        if (Gemm.PacksB && _weight.Numel > 0)
            _packed = Gemm.PackA(false, o, _weight.Numel / o, _weight.Data, _weight.Numel / o, reuse: null);
        _scale = scale.ToArray();
        _shift = Ops.FoldBias(bias, scale, shift);
        (Activation, Stride, Padding) = (activation, stride, padding);
    }

    /// <summary>Input channels.</summary>
    public int InChannels => _weight.Dims[1];

    /// <summary>Output channels.</summary>
    public int OutChannels => _weight.Dims[0];

    /// <summary>The activation applied last.</summary>
    public FusedActivation Activation { get; }

    /// <summary>The stride.</summary>
    public int Stride { get; }

    /// <summary>The zero padding on each side.</summary>
    public int Padding { get; }

    /// <summary>y for x (N, C, H, W).</summary>
    /// <exception cref="ArgumentException">x is not (N, <see cref="InChannels"/>, H, W), or smaller than the kernel.</exception>
    /// <exception cref="InvalidOperationException">Gradient recording is on and x requires grad.</exception>
    public Tensor Forward(Tensor x) => Ops.Conv2dAffine(x, _weight, _packed, _scale, _shift, Activation, Stride, Padding);

    /// <inheritdoc/>
    public override string ToString() =>
        $"FrozenConv2d({InChannels} → {OutChannels}, {_weight.Dims[2]}×{_weight.Dims[3]}, stride {Stride}, padding {Padding}, {Activation})";
}
