namespace MiniNet.Layers;

/// <summary>y = max(x, 0), elementwise.</summary>
public sealed class ReLU : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Relu();
}

/// <summary>y = 1 / (1 + e^(−x)), elementwise.</summary>
public sealed class Sigmoid : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Sigmoid();
}

/// <summary>y = tanh x, elementwise.</summary>
public sealed class Tanh : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Tanh();
}

/// <summary>y = x for x &gt; 0, else negativeSlope·x, elementwise (PyTorch's <c>nn.LeakyReLU</c>).</summary>
public sealed class LeakyReLU : Module
{
    /// <summary>A LeakyReLU with the given slope for negative inputs (finite).</summary>
    public LeakyReLU(float negativeSlope = 0.01f)
    {
        if (!float.IsFinite(negativeSlope)) throw new ArgumentOutOfRangeException(nameof(negativeSlope), negativeSlope, "negativeSlope must be finite.");
        NegativeSlope = negativeSlope;
    }

    /// <summary>The slope for negative inputs.</summary>
    public float NegativeSlope { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.LeakyRelu(NegativeSlope);

    /// <inheritdoc/>
    protected override string Describe() => FormattableString.Invariant($"LeakyReLU(negativeSlope: {NegativeSlope})");
}

/// <summary>y = x for x &gt; 0, else α·(eˣ − 1), elementwise (PyTorch's <c>nn.ELU</c>).</summary>
public sealed class ELU : Module
{
    /// <summary>An ELU with the given α (finite).</summary>
    public ELU(float alpha = 1f)
    {
        if (!float.IsFinite(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be finite.");
        Alpha = alpha;
    }

    /// <summary>The value the negative branch approaches (as −α).</summary>
    public float Alpha { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Elu(Alpha);

    /// <inheritdoc/>
    protected override string Describe() => FormattableString.Invariant($"ELU(alpha: {Alpha})");
}

/// <summary>y = x·Φ(x), elementwise, exact or with PyTorch's tanh approximation (PyTorch's <c>nn.GELU</c>).</summary>
public sealed class GELU : Module
{
    /// <summary>A GELU; <paramref name="approximate"/> is "none" (exact) or "tanh".</summary>
    public GELU(string approximate = "none")
    {
        if (approximate is not ("none" or "tanh"))
            throw new ArgumentException($"approximate must be \"none\" or \"tanh\", not \"{approximate}\".", nameof(approximate));
        Approximate = approximate;
    }

    /// <summary>"none" or "tanh".</summary>
    public string Approximate { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Gelu(Approximate);

    /// <inheritdoc/>
    protected override string Describe() => $"GELU(approximate: \"{Approximate}\")";
}

/// <summary>y = x·σ(x), elementwise (PyTorch's <c>nn.SiLU</c>, also called Swish).</summary>
public sealed class SiLU : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Silu();
}

/// <summary>y = log(1 + e^(β·x))/β, linear beyond the threshold, elementwise (PyTorch's <c>nn.Softplus</c>).</summary>
public sealed class Softplus : Module
{
    /// <summary>A Softplus with β &gt; 0 and the threshold of β·x beyond which it returns x.</summary>
    public Softplus(float beta = 1f, float threshold = 20f)
    {
        if (!(beta > 0) || !float.IsFinite(beta)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be positive and finite.");
        if (!float.IsFinite(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "threshold must be finite.");
        (Beta, Threshold) = (beta, threshold);
    }

    /// <summary>β.</summary>
    public float Beta { get; }

    /// <summary>The value of β·x beyond which the output is x.</summary>
    public float Threshold { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Softplus(Beta, Threshold);

    /// <inheritdoc/>
    protected override string Describe() => FormattableString.Invariant($"Softplus(beta: {Beta}, threshold: {Threshold})");
}

/// <summary>Softmax along one axis (PyTorch's <c>nn.Softmax(dim)</c>).</summary>
public sealed class Softmax(int dim = -1) : Module
{
    /// <summary>The axis normalized (negative counts from the end).</summary>
    public int Dim { get; } = dim;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Softmax(Dim);

    /// <inheritdoc/>
    protected override string Describe() => $"Softmax(dim: {Dim})";
}

/// <summary>log(softmax(x)) along one axis, computed stably (PyTorch's <c>nn.LogSoftmax(dim)</c>).</summary>
public sealed class LogSoftmax(int dim = -1) : Module
{
    /// <summary>The axis normalized (negative counts from the end).</summary>
    public int Dim { get; } = dim;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.LogSoftmax(Dim);

    /// <inheritdoc/>
    protected override string Describe() => $"LogSoftmax(dim: {Dim})";
}

/// <summary>Returns its input (PyTorch's <c>nn.Identity</c>): a placeholder where a layer is optional.</summary>
public sealed class Identity : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x;
}
