namespace MiniNet;

/// <summary>A trainable leaf tensor: <see cref="Tensor.RequiresGrad"/> is true from the start.</summary>
/// <remarks>Optimizers update <see cref="Tensor.Data"/> in place; layers register parameters by name.</remarks>
public sealed class Parameter : Tensor
{
    /// <summary>Wraps the storage of <paramref name="initial"/> (not copied) as a trainable parameter.</summary>
    public Parameter(Tensor initial) : base(initial ?? throw new ArgumentNullException(nameof(initial)))
    {
        RequiresGrad = true;
    }
}
