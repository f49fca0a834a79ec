namespace MiniNet.Layers;

/// <summary>Mean cross-entropy between logits (N, K) and integer labels in [0, K): (1/N)·Σ −log softmax(x)ₙ,yₙ.</summary>
/// <remarks>Fused and numerically stable (see <see cref="Ops.CrossEntropy"/>). An out-of-range label throws, naming it.</remarks>
public sealed class CrossEntropyLoss
{
    /// <summary>The loss as a one-element tensor.</summary>
    public Tensor Forward(Tensor logits, int[] labels) => logits.CrossEntropy(labels);
}
