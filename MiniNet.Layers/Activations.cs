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
