namespace MiniNet.Layers;

/// <summary>Layer normalization: y = γ·(x − μ)/√(σ² + ε) + β with μ and the biased σ² taken over the trailing
/// <see cref="NormalizedShape"/> dimensions of each sample, not over the batch (contrast <see cref="BatchNorm"/>).</summary>
/// <remarks>Composite: built from Mean, Var and arithmetic ops, so its gradient needs no code of its own. The same in
/// training and evaluation; no running statistics.</remarks>
public sealed class LayerNorm : Module
{
    private readonly int[] _normalizedShape;
    private readonly int[] _axes;

    /// <summary>Normalises over the last dimension of size <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int normalizedShape, float eps = 1e-5f, bool elementwiseAffine = true)
        : this([normalizedShape], eps, elementwiseAffine) { }

    /// <summary>Normalises over the trailing dimensions given by <paramref name="normalizedShape"/>.</summary>
    /// <exception cref="ArgumentException">The shape is empty or has a non-positive size, or eps is not positive.</exception>
    public LayerNorm(int[] normalizedShape, float eps = 1e-5f, bool elementwiseAffine = true)
    {
        ArgumentNullException.ThrowIfNull(normalizedShape);
        if (normalizedShape.Length == 0 || normalizedShape.Any(d => d <= 0))
            throw new ArgumentException($"LayerNorm: normalizedShape {Shapes.Format(normalizedShape)} must be non-empty and positive.", nameof(normalizedShape));
        if (!(eps > 0f)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "LayerNorm: eps must be positive.");
        _normalizedShape = (int[])normalizedShape.Clone();
        _axes = Enumerable.Range(-normalizedShape.Length, normalizedShape.Length).ToArray();
        Eps = eps;
        if (elementwiseAffine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(_normalizedShape));
            Bias = RegisterParameter("bias", Tensor.Zeros(_normalizedShape));
        }
    }

    /// <summary>The trailing shape normalised over.</summary>
    public IReadOnlyList<int> NormalizedShape => _normalizedShape;

    /// <summary>γ (ones), or null without affine parameters.</summary>
    public Parameter? Weight { get; }

    /// <summary>β (zeros), or null without affine parameters.</summary>
    public Parameter? Bias { get; }

    /// <summary>ε added to the variance.</summary>
    public float Eps { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int k = _normalizedShape.Length;
        if (x.Rank < k || !x.Shape.Skip(x.Rank - k).SequenceEqual(_normalizedShape))
            throw new ArgumentException($"LayerNorm expects x of shape (…, {string.Join(", ", _normalizedShape)}), got {Shapes.Format(x.Shape)}.", nameof(x));
        Tensor centered = x - x.Mean(_axes, keepDim: true);
        Tensor y = centered / (centered.Square().Mean(_axes, keepDim: true) + Eps).Sqrt();
        return Weight is null ? y : y * Weight + Bias!;
    }
}
