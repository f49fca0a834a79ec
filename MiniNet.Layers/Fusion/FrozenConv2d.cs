namespace MiniNet.Layers;

/// <summary>An inference-only convolution whose weights are fixed when it is built:
/// y = act((conv2d(x, W) + b)·scale[o] + shift[o]), scale and shift per output channel (a Conv2d followed by an
/// evaluation-mode BatchNorm2d folds into them). Computed as <see cref="Ops.Conv2dAffine(Tensor, PackedWeight, Tensor?, ReadOnlySpan{float}, ReadOnlySpan{float}, FusedActivation, int, int)"/>
/// with the weight packed once, bitwise equal to the unpacked op.</summary>
/// <remarks>A snapshot, like <see cref="FrozenLinear"/>: the weight is copied, so later changes to the tensors it was
/// built from do not reach it. It has no parameters and records no graph: inputs that require grad are refused while
/// gradient recording is on.</remarks>
public sealed class FrozenConv2d : Module
{
    private readonly PackedWeight _weight;
    private readonly float[] _scale, _shift;   // the shift with the bias folded in

    /// <summary>Freezes y = act((conv2d(x, W, stride, padding) + b)·scale + shift).</summary>
    /// <param name="weight">(O, C, kH, kW).</param>
    /// <param name="bias">(O), or null.</param>
    /// <param name="scale">O values.</param>
    /// <param name="shift">O values.</param>
    /// <param name="activation">Applied last.</param>
    /// <param name="stride">At least 1.</param>
    /// <param name="padding">Zero padding on each side, non-negative.</param>
    /// <exception cref="ArgumentException">Mismatched shapes, or a bad stride, padding or activation.</exception>
    public FrozenConv2d(Tensor weight, Tensor? bias, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, FusedActivation activation,
        int stride = 1, int padding = 0)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 4)
            throw new ArgumentException($"FrozenConv2d: weight must be (O, C, kH, kW), got {Shapes.Format(weight.Shape)}.", nameof(weight));
        int o = weight.Shape[0];
        FrozenChecks.Affine("FrozenConv2d", o, bias, scale, shift, activation);
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "FrozenConv2d: stride must be at least 1.");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "FrozenConv2d: padding must be non-negative.");
        _weight = PackedWeight.ForConv2d(weight);
        _scale = scale.ToArray();
        _shift = Ops.FoldBias(bias, scale, shift);
        (Activation, Stride, Padding) = (activation, stride, padding);
    }

    /// <summary>Input channels.</summary>
    public int InChannels => _weight.Shape[1];

    /// <summary>Output channels.</summary>
    public int OutChannels => _weight.Shape[0];

    /// <summary>The activation applied last.</summary>
    public FusedActivation Activation { get; }

    /// <summary>The stride.</summary>
    public int Stride { get; }

    /// <summary>The zero padding on each side.</summary>
    public int Padding { get; }

    /// <summary>y for x (N, C, H, W).</summary>
    /// <exception cref="ArgumentException">x is not (N, <see cref="InChannels"/>, H, W), or smaller than the kernel.</exception>
    /// <exception cref="InvalidOperationException">Gradient recording is on and x requires grad.</exception>
    public override Tensor Forward(Tensor x) => x.Conv2dAffine(_weight, null, _scale, _shift, Activation, Stride, Padding);

    /// <inheritdoc/>
    protected override string Describe() =>
        $"FrozenConv2d({InChannels} → {OutChannels}, {_weight.Shape[2]}×{_weight.Shape[3]}, stride {Stride}, padding {Padding}, {Activation})";
}

/// <summary>The argument checks of the frozen layers' constructors.</summary>
internal static class FrozenChecks
{
    /// <summary>bias (out) or null, scale and shift of <paramref name="outputs"/> values each, a known activation.</summary>
    public static void Affine(string layer, int outputs, Tensor? bias, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, FusedActivation activation)
    {
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outputs))
            throw new ArgumentException($"{layer}: bias must have shape ({outputs}), got {Shapes.Format(bias.Shape)}.", nameof(bias));
        if (scale.Length != outputs || shift.Length != outputs)
            throw new ArgumentException(
                $"{layer}: scale and shift need {outputs} values each (one per output), got {scale.Length} and {shift.Length}.", nameof(scale));
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, $"{layer}: unknown activation.");
    }
}
