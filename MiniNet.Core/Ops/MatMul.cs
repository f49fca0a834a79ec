using MiniNet.Kernels;

namespace MiniNet;

public static partial class Ops
{
    /// <summary>Matrix product. (M, K)·(K, N) → (M, N); batched (B, M, K)·(B, K, N) → (B, M, N);
    /// and (B, M, K)·(K, N) → (B, M, N), the right operand shared by every batch entry.</summary>
    /// <exception cref="ArgumentException">Ranks other than these, mismatched inner dimensions or batch sizes.</exception>
    public static Tensor MatMul(this Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int[] sa = a.Dims, sb = b.Dims;
        if (a.Rank is < 2 or > 3 || b.Rank is < 2 or > 3 || (a.Rank == 2 && b.Rank == 3))
            throw new ArgumentException(
                $"MatMul: {Shapes.Format(sa)} @ {Shapes.Format(sb)}: expects (M, K) @ (K, N), (B, M, K) @ (B, K, N) or (B, M, K) @ (K, N).", nameof(b));
        int k = sa[^1];
        if (sb[^2] != k)
            throw new ArgumentException(
                $"MatMul: {Shapes.Format(sa)} @ {Shapes.Format(sb)}: inner dimensions {k} and {sb[^2]} differ", nameof(b));
        if (a.Rank == 3 && b.Rank == 3 && sa[0] != sb[0])
            throw new ArgumentException($"MatMul: {Shapes.Format(sa)} @ {Shapes.Format(sb)}: batch sizes {sa[0]} and {sb[0]} differ.", nameof(b));

        int n = sb[^1];
        if (b.Rank == 2)
        {
            // (…, M, K)·(K, N): fold any batch into M, one GEMM.
            int m = a.Numel / Math.Max(k, 1);
            if (k == 0) m = a.Rank == 3 ? sa[0] * sa[1] : sa[0];
            Tensor y = Tensor.Allocate([.. sa[..^1], n]);
            Gemm.Multiply(false, false, m, n, k, a.Values, k, b.Values, n, y.Values, n, accumulate: false);
            return Autograd.Record(y, "matmul", [a, b], dy =>
            {
                if (a.RequiresGrad) Gemm.Multiply(false, true, m, k, n, dy.Values, n, b.Values, n, Autograd.GradTarget(a).ForAdding(), k, accumulate: true);   // dA += dY·Bᵀ
                if (b.RequiresGrad) Gemm.Multiply(true, false, k, n, m, a.Values, k, dy.Values, n, Autograd.GradTarget(b).ForAdding(), n, accumulate: true);   // dB += Aᵀ·dY
            });
        }

        int batch = sa[0], rows = sa[1];
        Tensor z = Tensor.Allocate(batch, rows, n);
        BatchedGemm(batch, false, false, rows, n, k, a.Storage, rows * k, k, b.Storage, k * n, n, z.Storage, rows * n, n);
        return Autograd.Record(z, "bmm", [a, b], dy =>
        {
            if (a.RequiresGrad)
                BatchedGemm(batch, false, true, rows, k, n, dy.Storage, rows * n, n, b.Storage, k * n, n, AddingInto(a), rows * k, k, true);
            if (b.RequiresGrad)
                BatchedGemm(batch, true, false, k, n, rows, a.Storage, rows * k, k, dy.Storage, rows * n, n, AddingInto(b), k * n, n, true);
        });
    }

    /// <summary>One GEMM per batch entry; entries run in parallel, each single-threaded, when they are small.</summary>
    private static void BatchedGemm(int batch, bool transA, bool transB, int m, int n, int k,
        float[] a, int strideA, int lda, float[] b, int strideB, int ldb, float[] c, int strideC, int ldc, bool accumulate = false)
    {
        bool parallelEntries = batch > 1 && (long)m * n * k < 1L << 18;
        if (parallelEntries)
            Parallelism.For(batch, i => Gemm.Multiply(transA, transB, m, n, k, a.AsSpan(i * strideA), lda, b.AsSpan(i * strideB), ldb,
                c.AsSpan(i * strideC, strideC), ldc, accumulate, parallel: false));
        else
            for (int i = 0; i < batch; i++)
                Gemm.Multiply(transA, transB, m, n, k, a.AsSpan(i * strideA), lda, b.AsSpan(i * strideB), ldb,
                    c.AsSpan(i * strideC, strideC), ldc, accumulate);
    }
}
