using System.Numerics.Tensors;

namespace MiniNet;

public static partial class Ops
{
    /// <summary>Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1 − p);
    /// otherwise return x unchanged. The mask is drawn from <paramref name="generator"/> (default <see cref="Rng.Default"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">p outside [0, 1].</exception>
    public static Tensor Dropout(this Tensor x, float p, bool training, System.Random? generator = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!(p >= 0f && p <= 1f)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout: p must be in [0, 1].");
        if (!training || p == 0f) return x;
        generator ??= Rng.Default;
        var mask = new float[x.Numel];
        float scale = p == 1f ? 0f : 1f / (1f - p);
        for (int i = 0; i < mask.Length; i++) mask[i] = generator.NextDouble() >= p ? scale : 0f;
        Tensor y = Tensor.Allocate(x.Dims);
        TensorPrimitives.Multiply(x.Values, mask, y.Values);
        return Autograd.Record(y, "dropout", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            Span<float> dx = Autograd.GradTarget(x).ForAdding();
            TensorPrimitives.MultiplyAdd(dy.Values, mask, dx, dx);
        });
    }
}
