namespace MiniNet.Layers;

/// <summary>Parameter initialisation schemes, as <c>torch.nn.init</c> defines them.</summary>
public static class Init
{
    /// <summary>U(−b, b) with b = gain·√(3 / fanIn), gain = √(2 / (1 + a²)). PyTorch's default for Linear and Conv2d
    /// weights uses a = √5, which gives b = 1/√fanIn.</summary>
    public static Tensor KaimingUniform(int[] shape, int fanIn, System.Random generator, double a = 2.2360679774997896964)
    {
        double gain = Math.Sqrt(2.0 / (1.0 + a * a));
        float bound = fanIn > 0 ? (float)(gain * Math.Sqrt(3.0 / fanIn)) : 0f;
        return Tensor.Uniform(shape, -bound, bound, generator);
    }

    /// <summary>U(−1/√fanIn, 1/√fanIn): PyTorch's default for Linear and Conv2d biases.</summary>
    public static Tensor FanInUniform(int[] shape, int fanIn, System.Random generator)
    {
        float bound = fanIn > 0 ? 1f / MathF.Sqrt(fanIn) : 0f;
        return Tensor.Uniform(shape, -bound, bound, generator);
    }
}
