using MiniNet.Kernels;

namespace MiniNet;

/// <summary>An inference-only linear layer whose weights are fixed when it is built: y = act((x·Wᵀ + b)·scale + shift),
/// scale and shift per output feature (a linear layer followed by an evaluation-mode BatchNorm folds into them). The
/// weight is copied and packed for the matrix multiply once, so each call skips that work; the output is bitwise equal
/// to <see cref="Ops.LinearAffine"/> with the same arguments.</summary>
/// <remarks>A snapshot, like a frozen TorchScript module: later changes to the tensors it was built from do not reach
/// it (build a new one after training further). It records no graph: inputs that require grad are refused while
/// gradient recording is on.</remarks>
public sealed class FrozenLinear
{
    private readonly PackedB _weight;
    private readonly float[] _scale, _shift;
    private readonly bool _identity;   // scale 1, shift +0, no activation: a plain product

    /// <summary>Freezes y = act((x·Wᵀ + b)·scale + shift).</summary>
    /// <param name="weight">(out, in).</param>
    /// <param name="bias">(out), or null.</param>
    /// <param name="scale">out values.</param>
    /// <param name="shift">out values.</param>
    /// <param name="activation">Applied last.</param>
    /// <exception cref="ArgumentException">Mismatched shapes.</exception>
    public FrozenLinear(Tensor weight, Tensor? bias, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, FusedActivation activation)
    {
        (OutFeatures, InFeatures) = Ops.CheckAffine("FrozenLinear", weight, bias, scale, shift, activation);
        _scale = scale.ToArray();
        _shift = Ops.FoldBias(bias, scale, shift);
        _weight = Gemm.Pack(transB: true, InFeatures, OutFeatures, weight.Data, InFeatures);
        Activation = activation;
        // A plain product (scale 1, shift +0, no activation) skips the epilogue, which would leave every value as it is.
        _identity = activation == FusedActivation.None && _scale.All(v => v == 1f) && _shift.All(v => BitConverter.SingleToInt32Bits(v) == 0);
    }

    /// <summary>Freezes y = act(x·Wᵀ + b).</summary>
    public FrozenLinear(Tensor weight, Tensor? bias = null, FusedActivation activation = FusedActivation.None)
        : this(weight, bias, Ones(weight), new float[CheckWeight(weight).Dims[0]], activation) { }

    /// <summary>Input features (the weight's second dimension).</summary>
    public int InFeatures { get; }

    /// <summary>Output features (the weight's first dimension).</summary>
    public int OutFeatures { get; }

    /// <summary>The activation applied last.</summary>
    public FusedActivation Activation { get; }

    /// <summary>y = act((x·Wᵀ + b)·scale + shift) for x (…, in); y is (…, out).</summary>
    /// <exception cref="ArgumentException">x's last dimension is not <see cref="InFeatures"/>.</exception>
    /// <exception cref="InvalidOperationException">Gradient recording is on and x requires grad.</exception>
    public Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 1 || x.Dims[^1] != InFeatures)
            throw new ArgumentException($"FrozenLinear: expects x of shape (…, {InFeatures}), got {Shapes.Format(x.Dims)}.", nameof(x));
        if (Autograd.Enabled && x.RequiresGrad)
            throw new InvalidOperationException(
                "FrozenLinear is inference-only and records no graph: call it under Autograd.NoGrad(), or on a tensor that does not require grad.");
        int rows = InFeatures == 0 ? Shapes.Numel(x.Dims[..^1]) : x.Numel / InFeatures;
        Tensor y = Tensor.Allocate([.. x.Dims[..^1], OutFeatures]);
        Gemm.Multiply(false, rows, InFeatures, x.Data, InFeatures, _weight, y.Data, OutFeatures, accumulate: false,
            _identity ? default : new GemmEpilogue(_scale, _shift, Activation));
        return y;
    }

    /// <inheritdoc/>
    public override string ToString() => $"FrozenLinear({InFeatures} → {OutFeatures}, {Activation})";

    private static Tensor CheckWeight(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2) throw new ArgumentException($"FrozenLinear: weight must be (out, in), got {Shapes.Format(weight.Dims)}.", nameof(weight));
        return weight;
    }

    private static float[] Ones(Tensor weight)
    {
        float[] ones = new float[CheckWeight(weight).Dims[0]];
        ones.AsSpan().Fill(1f);
        return ones;
    }
}
