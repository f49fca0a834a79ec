namespace MiniNet.Kernels.Reference;

/// <summary>Scalar twin of <see cref="OptimizerKernels"/>.</summary>
internal static class OptimizerReference
{
    public static void SgdMomentum(float[] p, float[] g, float[] v, int length, float lr, float momentum, float dampening)
    {
        for (int i = 0; i < length; i++)
        {
            v[i] = momentum * v[i] + (1f - dampening) * g[i];
            p[i] = p[i] - lr * v[i];
        }
    }
}
