using MiniNet;
using MiniNet.Layers;

namespace CustomLayer;

/// <summary>A layer over the custom op: no parameters, no backward code (the op has it).</summary>
public sealed class Swish : Module
{
    public override Tensor Forward(Tensor x) => x.Swish();
}

/// <summary>A composite block built only from existing modules: y = Swish(x + BN(W₂·Swish(BN(W₁·x)))).</summary>
/// <remarks>Bias-free Dense layers feed BatchNorm (β replaces the bias). Registered children give the state-dict keys
/// <c>fc1.weight</c>, <c>bn1.running_mean</c>, …; the gradient comes from the ops for free. Each Dense → BatchNorm pair
/// runs through the fusion planner (<see cref="Fusion.Forward(Tensor, ReadOnlySpan{Module})"/>), so in evaluation under
/// NoGrad it is one fused product, as in a Sequential.</remarks>
public sealed class ResidualBlock : Module
{
    private readonly Dense _fc1, _fc2;
    private readonly BatchNorm1d _bn1, _bn2;

    public ResidualBlock(int features)
    {
        _fc1 = RegisterModule("fc1", new Dense(features, features, bias: false));
        _bn1 = RegisterModule("bn1", new BatchNorm1d(features));
        _fc2 = RegisterModule("fc2", new Dense(features, features, bias: false));
        _bn2 = RegisterModule("bn2", new BatchNorm1d(features));
    }

    public override Tensor Forward(Tensor x)
    {
        Tensor h = Fusion.Forward(x, _fc1, _bn1).Swish();
        return (x + Fusion.Forward(h, _fc2, _bn2)).Swish();
    }
}
