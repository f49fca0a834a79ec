namespace MiniNet.Layers;

/// <summary>Fully connected layer, y = x·Wᵀ + b (PyTorch's <c>nn.Linear</c>).</summary>
/// <remarks>Weight W is (out, in) and bias b is (out), both initialised U(−1/√in, 1/√in) as in PyTorch. Input (N, in) or
/// (…, in); output (…, out). In the notes' BN-DNN every Dense has <c>bias: false</c>: the following BatchNorm's β replaces it.</remarks>
public sealed class Dense : Module
{
    /// <summary>W, shape (out, in).</summary>
    public Parameter Weight { get; }

    /// <summary>b, shape (out), or null when constructed with <c>bias: false</c>.</summary>
    public Parameter? Bias { get; }

    /// <summary>Input features.</summary>
    public int InFeatures { get; }

    /// <summary>Output features.</summary>
    public int OutFeatures { get; }

    /// <summary>Creates the layer; the generator defaults to <see cref="Rng.Default"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A feature count is not positive.</exception>
    public Dense(int inFeatures, int outFeatures, bool bias = true, System.Random? generator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        (InFeatures, OutFeatures) = (inFeatures, outFeatures);
        generator ??= Rng.Default;
        // PyTorch's default: kaiming_uniform(a = √5) for W, U(±1/√fanIn) for b.
        Weight = RegisterParameter("weight", Init.KaimingUniform([outFeatures, inFeatures], inFeatures, generator));
        if (bias) Bias = RegisterParameter("bias", Init.FanInUniform([outFeatures], inFeatures, generator));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 1 || x.Shape[^1] != InFeatures)
            throw new ArgumentException($"Dense expects x of shape (N, {InFeatures}), got {Shapes.Format(x.Shape)}.", nameof(x));
        return x.Linear(Weight, Bias);
    }

    /// <inheritdoc/>
    protected override string Describe() => $"Dense({InFeatures}, {OutFeatures}, bias: {Bias is not null})";
}
