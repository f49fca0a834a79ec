namespace MiniNet.Kernels.Reference;

/// <summary>Scalar twins of <see cref="OptimizerKernels"/>: PyTorch's update rules, one element at a time.</summary>
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

    /// <summary>g' = g + wd·p; v = g' (first step) or μ·v + (1 − dampening)·g'; g' = g' + μ·v (Nesterov) or v; p −= lr·g'.</summary>
    public static void Sgd(float[] p, float[] g, float[]? v, int length, OptimizerKernels.SgdStep s)
    {
        for (int i = 0; i < length; i++)
        {
            float grad = g[i] + s.WeightDecay * p[i];
            if (s.Momentum != 0f)
            {
                v![i] = s.FirstStep ? grad : s.Momentum * v[i] + (1f - s.Dampening) * grad;
                grad = s.Nesterov ? grad + s.Momentum * v[i] : v[i];
            }
            p[i] = p[i] - s.Lr * grad;
        }
    }

    /// <summary>p = p·decay; g' = g + wd·p; m = β₁·m + (1 − β₁)·g'; v = β₂·v + (1 − β₂)·g'²; v̂ = max(v̂, v);
    /// p −= stepSize·m / (√v̂ / correction₂ + ε).</summary>
    public static void Adam(float[] p, float[] g, float[] m, float[] v, float[]? vMax, int length, OptimizerKernels.AdamStep s)
    {
        for (int i = 0; i < length; i++)
        {
            float param = p[i] * s.Decay;
            float grad = g[i] + s.WeightDecay * param;
            m[i] = s.Beta1 * m[i] + (1f - s.Beta1) * grad;
            v[i] = s.Beta2 * v[i] + (1f - s.Beta2) * grad * grad;
            float second = v[i];
            if (vMax is not null) second = vMax[i] = MathF.Max(vMax[i], second);
            p[i] = param - s.StepSize * (m[i] / (MathF.Sqrt(second) / s.Correction2 + s.Eps));
        }
    }
}
