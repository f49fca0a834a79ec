namespace MiniNet.Layers;

/// <summary>A residual connection, y = body(x) + shortcut(x), where the shortcut is the identity unless given (a
/// strided 1×1 <see cref="Conv2d"/> and a BatchNorm2d when the body changes the shape). A ResNet basic block is
/// <c>new Sequential(new Residual(body, shortcut), new ReLU())</c>.</summary>
/// <remarks>Parameters are named as PyTorch would name attributes "body" and "shortcut": <c>body.0.weight</c>,
/// <c>shortcut.1.running_mean</c>.</remarks>
public sealed class Residual : Module
{
    /// <summary>Adds <paramref name="body"/>(x) to <paramref name="shortcut"/>(x), or to x itself.</summary>
    public Residual(Module body, Module? shortcut = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        Body = RegisterModule("body", body);
        if (shortcut is not null) Shortcut = RegisterModule("shortcut", shortcut);
    }

    /// <summary>The residual branch.</summary>
    public Module Body { get; }

    /// <summary>The shortcut branch, or null for the identity.</summary>
    public Module? Shortcut { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The branches give different shapes (the message names both).</exception>
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        Tensor f = Body.Call(x);
        Tensor s = Shortcut is null ? x : Shortcut.Call(x);
        if (!f.Shape.SequenceEqual(s.Shape))
            throw new ArgumentException(
                $"Residual: the body gives {Shapes.Format(f.Shape)} but the shortcut {(Shortcut is null ? "(identity) " : "")}gives " +
                $"{Shapes.Format(s.Shape)} for input {Shapes.Format(x.Shape)}; give a shortcut that matches the body's shape.", nameof(x));
        return f + s;
    }
}
