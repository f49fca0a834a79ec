namespace MiniNet.Kernels.Reference;

/// <summary>The triple loop that <see cref="Gemm"/> must equal: c[i, j] (+)= Σ_p op(a)[i, p]·op(b)[p, j].</summary>
internal static class GemmReference
{
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0f;
                for (int p = 0; p < k; p++)
                {
                    float x = transA ? a[p * lda + i] : a[i * lda + p];
                    float y = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += x * y;
                }
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum : sum;
            }
        }
    }
}
