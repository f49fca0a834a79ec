namespace MiniNet.Kernels;

/// <summary>op(B) of products that reuse it unchanged (an inference weight), packed once by <see cref="Gemm.Pack"/>: a
/// copy of its values (later changes to the source do not reach it) and, where the packed kernels run, all of its
/// k-blocks and panels in the order the products read them (and, once a tall, deep product has read it, the same in that
/// product's deeper k-blocks: <see cref="DeepPanels"/>).</summary>
internal sealed class PackedB
{
    internal PackedB(bool transB, int k, int n, float[]? values, int ldb, float[]? panels, bool deep) =>
        (TransB, K, N, Values, Ldb, Panels, Deep) = (transB, k, n, values, ldb, panels, deep);

    /// <summary>Whether <see cref="Panels"/> hold the deep blocking's k-blocks (Gemm.IsDeep): a workspace made for tall
    /// products, which does not know their m otherwise (a packed A's k-blocks follow from its own m and k); a prepacked
    /// copy's panels never (its deep layout is <see cref="DeepPanels"/>).</summary>
    public bool Deep { get; }

    /// <summary>Whether <see cref="Values"/> holds B transposed (op(B)[p, j] = Values[j·Ldb + p]).</summary>
    public bool TransB { get; }

    /// <summary>Rows of op(B).</summary>
    public int K { get; }

    /// <summary>Columns of op(B).</summary>
    public int N { get; }

    /// <summary>The copied values, with row stride <see cref="Ldb"/>; null for a workspace filled in packed form
    /// (<see cref="Gemm.PackedWorkspace"/>).</summary>
    public float[]? Values { get; }

    /// <summary>The row stride of <see cref="Values"/>.</summary>
    public int Ldb { get; }

    /// <summary>The packed panels (pinned, 64-byte aligned inside), or null where the reference kernel runs.</summary>
    internal float[]? Panels { get; }

    /// <summary>The panels in the deep blocking's k-blocks, made on first use by a deep product (Gemm.DeepPanels; a field
    /// for its lock-free read).</summary>
    internal float[]? DeepPanels;
}

/// <summary>op(A) of products that reuse it, packed once by <see cref="Gemm.PackA(bool, int, int, ReadOnlySpan{float}, int, float[])"/>: all of its k-blocks and row panels
/// (pinned, 64-byte aligned inside), without its values.</summary>
internal sealed class PackedA
{
    internal PackedA(int m, int k, float[] panels) => (M, K, Panels) = (m, k, panels);

    /// <summary>Rows of op(A).</summary>
    public int M { get; }

    /// <summary>Columns of op(A).</summary>
    public int K { get; }

    internal float[] Panels { get; }
}
