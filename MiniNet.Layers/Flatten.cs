namespace MiniNet.Layers;

/// <summary>Merges dimensions <see cref="StartDim"/>..<see cref="EndDim"/> (default: all but the batch), as <c>nn.Flatten</c>:
/// (N, C, H, W) → (N, C·H·W). No copy.</summary>
public sealed class Flatten(int startDim = 1, int endDim = -1) : Module
{
    /// <summary>First merged dimension.</summary>
    public int StartDim { get; } = startDim;

    /// <summary>Last merged dimension (negative counts from the end).</summary>
    public int EndDim { get; } = endDim;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Flatten(StartDim, EndDim);
}
