using System.Numerics.Tensors;

namespace MiniNet.Optim;

/// <summary>Gradient clipping, as <c>torch.nn.utils.clip_grad_norm_</c>.</summary>
public static class GradientClipping
{
    /// <summary>Scales all gradients by maxNorm/(‖g‖ + 1e-6) when their global L2 norm ‖g‖ exceeds <paramref name="maxNorm"/>.</summary>
    /// <returns>The global norm before clipping.</returns>
    /// <exception cref="ArgumentOutOfRangeException">maxNorm is not positive.</exception>
    public static float ClipGradNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0f)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "maxNorm must be positive.");
        double squares = 0;
        foreach (Tensor p in parameters)
            if (p.Grad is { } g) squares += TensorPrimitives.SumOfSquares(g.Data);
        float total = (float)Math.Sqrt(squares);
        float scale = maxNorm / (total + 1e-6f);
        if (scale < 1f)
            foreach (Tensor p in parameters)
                if (p.Grad is { } g) TensorPrimitives.Multiply(g.Data, scale, g.Data);
        return total;
    }
}
