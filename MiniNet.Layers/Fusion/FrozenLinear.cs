namespace MiniNet.Layers;

/// <summary>An inference-only linear layer whose weights are fixed when it is built: y = act((x·Wᵀ + b)·scale + shift),
/// scale and shift per output feature (a Dense followed by an evaluation-mode BatchNorm1d folds into them). The weight
/// is copied and packed for the matrix multiply once (<see cref="PackedWeight"/>), so each call skips that work; the
/// output is bitwise equal to <see cref="Ops.LinearAffine(Tensor, Tensor, Tensor?, ReadOnlySpan{float}, ReadOnlySpan{float}, FusedActivation)"/>
/// with the same arguments.</summary>
/// <remarks>A snapshot, like a frozen TorchScript module: later changes to the tensors it was built from do not reach
/// it. It has no parameters and records no graph: inputs that require grad are refused while gradient recording is
/// on. <see cref="Sequential.Freeze"/> makes these.</remarks>
public sealed class FrozenLinear : Module
{
    private readonly PackedWeight _weight;
    private readonly float[] _scale, _shift;   // the shift with the bias folded in
    private readonly bool _identity;   // no bias, scale 1, shift +0, no activation: a plain product

    /// <summary>Freezes y = act((x·Wᵀ + b)·scale + shift).</summary>
    /// <param name="weight">(out, in).</param>
    /// <param name="bias">(out), or null.</param>
    /// <param name="scale">out values.</param>
    /// <param name="shift">out values.</param>
    /// <param name="activation">Applied last.</param>
    /// <exception cref="ArgumentException">Mismatched shapes, or an unknown activation.</exception>
    public FrozenLinear(Tensor weight, Tensor? bias, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, FusedActivation activation)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
            throw new ArgumentException($"FrozenLinear: weight must be (out, in), got {Shapes.Format(weight.Shape)}.", nameof(weight));
        (OutFeatures, InFeatures) = (weight.Shape[0], weight.Shape[1]);
        FrozenChecks.Affine("FrozenLinear", OutFeatures, bias, scale, shift, activation);
        _scale = scale.ToArray();
        _shift = Ops.FoldBias(bias, scale, shift);
        _weight = PackedWeight.ForLinear(weight);
        Activation = activation;
        // A plain product skips the epilogue (which would turn −0 into +0), as a Dense without a bias does.
        _identity = bias is null && activation == FusedActivation.None && _scale.All(v => v == 1f)
            && _shift.All(v => BitConverter.SingleToInt32Bits(v) == 0);
    }

    /// <summary>Freezes y = act(x·Wᵀ + b).</summary>
    /// <exception cref="ArgumentException">Mismatched shapes.</exception>
    public FrozenLinear(Tensor weight, Tensor? bias = null, FusedActivation activation = FusedActivation.None)
        : this(weight, bias, Ones(weight), new float[OutputsOf(weight)], activation) { }

    /// <summary>Input features (the weight's second dimension).</summary>
    public int InFeatures { get; }

    /// <summary>Output features (the weight's first dimension).</summary>
    public int OutFeatures { get; }

    /// <summary>The activation applied last.</summary>
    public FusedActivation Activation { get; }

    /// <summary>Whether a BatchNorm1d is folded in: it normalised (N, in) input only, so that is what this layer takes.</summary>
    public bool FoldsBatchNorm { get; init; }

    /// <summary>y = act((x·Wᵀ + b)·scale + shift) for x (…, in); y is (…, out).</summary>
    /// <exception cref="ArgumentException">x's last dimension is not <see cref="InFeatures"/> (or x is not (N, in) when a
    /// BatchNorm1d is folded in).</exception>
    /// <exception cref="InvalidOperationException">Gradient recording is on and x requires grad.</exception>
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (FoldsBatchNorm && x.Rank != 2)
            throw new ArgumentException(
                $"{Describe()} folds a BatchNorm1d, which needs (N, {InFeatures}) input, got {Shapes.Format(x.Shape)}.", nameof(x));
        if (x.Rank < 1 || x.Shape[^1] != InFeatures)
            throw new ArgumentException($"FrozenLinear: expects x of shape (…, {InFeatures}), got {Shapes.Format(x.Shape)}.", nameof(x));
        return _identity ? x.Linear(_weight) : x.LinearAffine(_weight, null, _scale, _shift, Activation);
    }

    /// <inheritdoc/>
    protected override string Describe() => $"FrozenLinear({InFeatures} → {OutFeatures}, {Activation})";

    private static int OutputsOf(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2) throw new ArgumentException($"FrozenLinear: weight must be (out, in), got {Shapes.Format(weight.Shape)}.", nameof(weight));
        return weight.Shape[0];
    }

    private static float[] Ones(Tensor weight)
    {
        float[] ones = new float[OutputsOf(weight)];
        ones.AsSpan().Fill(1f);
        return ones;
    }
}
