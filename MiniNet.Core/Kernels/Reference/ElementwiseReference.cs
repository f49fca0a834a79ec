namespace MiniNet.Kernels.Reference;

/// <summary>Plain scalar twins of <see cref="Elementwise"/>'s ops: the specification the SIMD driver is tested against.</summary>
internal static class ElementwiseReference
{
    public static void ReluGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < dx.Length; i++) if (x[i] > 0f) dx[i] += dy[i];
    }

    /// <summary>y[i] = σ(x[i]) = 1 / (1 + e^(−x[i])): the twin of <see cref="Logistic"/>.</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < y.Length; i++) y[i] = 1f / (1f + MathF.Exp(-x[i]));
    }

    public static void SigmoidGrad(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < dx.Length; i++) dx[i] += dy[i] * y[i] * (1f - y[i]);
    }

    public static void TanhGrad(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < dx.Length; i++) dx[i] += dy[i] * (1f - y[i] * y[i]);
    }

    public static void SqrtGrad(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < dx.Length; i++) dx[i] += dy[i] / (2f * y[i]);
    }

    public static void Quotient(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst)
    {
        for (int i = 0; i < dst.Length; i++) dst[i] += a[i] / b[i];
    }

    public static void AbsGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < dx.Length; i++) dx[i] += MathF.Sign(x[i]) * dy[i];
    }
}
