using MiniNet.Kernels;
using MiniNet.Kernels.Reference;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Kernels;

[TestFixture]
public class GemmTests
{
    private static IEnumerable<TestCaseData> Shapes()
    {
        int[][] sizes = [[1, 1, 1], [2, 3, 4], [7, 5, 3], [8, 32, 16], [9, 33, 17], [13, 47, 300], [67, 1, 5], [1, 67, 9],
                         [100, 70, 257], [130, 200, 64], [97, 2100, 20], [9, 33, 2100], [64, 40, 5000],   // the last two split k
                         [50, 96, 270],   // k-blocks of 135: packing rows of B four at a time leaves 3
                         [13, 10, 300], [6, 3, 17], [5, 16, 16], [1000, 10, 1024],   // narrow: row dot products when B is transposed
                         [390, 40, 1300]];   // the deep blocking: two k-blocks of 650, row blocks of 48 and a 6-row rest
        foreach (int[] s in sizes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    yield return new TestCaseData(s[0], s[1], s[2], ta, tb);
    }

    [TestCaseSource(nameof(Shapes))]
    public void Multiply_MatchesTripleLoop(int m, int n, int k, bool transA, bool transB)
    {
        // Leading dimensions larger than the logical sizes: the kernel must honour them (submatrix views).
        int lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 1;
        float[] a = TestData.Array((transA ? k : m) * lda, 1), b = TestData.Array((transB ? n : k) * ldb, 2);
        float[] c0 = TestData.Array(m * ldc, 3);
        foreach (bool accumulate in new[] { false, true })
        {
            float[] fast = (float[])c0.Clone(), slow = (float[])c0.Clone();
            Gemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, fast, ldc, accumulate);
            GemmReference.Multiply(transA, transB, m, n, k, a, lda, b, ldb, slow, ldc, accumulate);
            // Both sides round in float; their disagreement grows like √k.
            TensorAssert.Close(fast, slow, atol: 1e-4f * MathF.Max(1f, MathF.Sqrt(k / 100f)), rtol: 1e-4f, what: $"accumulate={accumulate}");
        }
    }

    [Test]
    public void Multiply_SingleThreadAndParallel_AreBitwiseEqual()
    {
        const int m = 150, n = 260, k = 300;
        float[] a = TestData.Array(m * k, 4), b = TestData.Array(k * n, 5);
        float[] serial = new float[m * n], threaded = new float[m * n];
        Gemm.Multiply(false, false, m, n, k, a, k, b, n, serial, n, false, parallel: false);
        Gemm.Multiply(false, false, m, n, k, a, k, b, n, threaded, n, false, parallel: true);
        Assert.That(threaded, Is.EqualTo(serial));
    }

    [NonParallelizable]   // changes the global thread count for a moment
    [TestCase(700, 1000, 400, false, false)]   // above the sharing threshold (2^28 multiply-adds): two k-blocks, edge tiles both ways
    [TestCase(1000, 1024, 300, true, true)]
    [TestCase(400, 1024, 675, false, false)]   // B packed in groups of rows: k-blocks of 225 leave a group of 1 row
    [TestCase(400, 1024, 675, true, false)]
    [TestCase(400, 1000, 673, false, false)]   // k-blocks of 225 and a last one of 223: an empty unit, a group of 15 rows
    [TestCase(1400, 20, 9600, false, false)]   // B narrower than a panel: one partial panel (just over 2^28 multiply-adds)
    [TestCase(384, 2048, 400, false, true)]   // four row blocks: columns cut into chunks too
    [TestCase(500, 300, 700, false, false)]   // below it: the static split by rows
    [TestCase(16, 16, 200_000, false, false)]  // split k in four parts: the sums must not follow the thread count
    [TestCase(64, 40, 5000, false, true)]      // split k in two parts
    [TestCase(128, 1024, 1024, false, true)]   // the static split by columns
    [TestCase(1000, 10, 300, false, true)]     // row dot products
    public void Multiply_OnThreads_EqualsOneThreadBitwise_ForAnyThreadCount(int m, int n, int k, bool transA, bool transB)
    {
        int lda = transA ? m : k, ldb = transB ? k : n;
        float[] a = TestData.Array(m * k, 13), b = TestData.Array(k * n, 14), c0 = TestData.Array(m * n, 15);
        foreach (bool accumulate in new[] { false, true })
        {
            float[] serial = (float[])c0.Clone();
            Gemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, serial, n, accumulate, parallel: false);
            int saved = Parallelism.MaxThreads;
            try
            {
                // More participants than processors: some start only after others have taken every task, which the
                // scheme must survive (nothing waits on unclaimed work).
                foreach (int threads in new[] { 2, 3, 8 })
                {
                    Parallelism.MaxThreads = threads;
                    float[] shared = (float[])c0.Clone();
                    Gemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, shared, n, accumulate);
                    Assert.That(shared, Is.EqualTo(serial), $"{threads} threads, accumulate={accumulate}");
                }
            }
            finally
            {
                Parallelism.MaxThreads = saved;
            }
        }
    }

    [Test]
    public void Multiply_SplitK_IsReproducible()
    {
        const int m = 32, n = 9, k = 50_000;   // a convolution weight gradient's shape
        float[] a = TestData.Array(m * k, 6), b = TestData.Array(k * n, 7);
        float[] first = new float[m * n], second = new float[m * n], slow = new float[m * n];
        Gemm.Multiply(false, true, m, n, k, a, k, b, k, first, n, false);
        Gemm.Multiply(false, true, m, n, k, a, k, b, k, second, n, false);
        GemmReference.Multiply(false, true, m, n, k, a, k, b, k, slow, n, false);
        Assert.That(second, Is.EqualTo(first));
        TensorAssert.Close(first, slow, atol: 1e-2f, rtol: 1e-4f);
    }

    private static IEnumerable<TestCaseData> EpilogueCases()
    {
        // Single-threaded and threaded packed products (split over n and over m, and shared between threads), narrow
        // row dot products, split k, edge tiles everywhere, and an empty inner dimension.
        int[][] sizes = [[9, 33, 17], [300, 250, 200], [1000, 64, 300], [1000, 600, 450], [130, 10, 1024], [7, 3, 40], [32, 20, 50_000], [4, 5, 0]];
        foreach (int[] s in sizes)
            foreach (FusedActivation act in Enum.GetValues<FusedActivation>())
                yield return new TestCaseData(s[0], s[1], s[2], act).SetArgDisplayNames($"{s[0]}x{s[1]}x{s[2]}", act.ToString());
    }

    private static float Activated(float v, FusedActivation act) => act switch
    {
        FusedActivation.Relu => MathF.Max(v, 0f),
        FusedActivation.Sigmoid => 1f / (1f + MathF.Exp(-v)),
        _ => v,
    };

    [TestCaseSource(nameof(EpilogueCases))]
    public void Multiply_WithEpilogue_EqualsProductThenAffineThenActivation(int m, int n, int k, FusedActivation act)
    {
        int ldc = n + 3;
        float[] a = TestData.Array(m * k, 8), b = TestData.Array(n * k, 9);   // B transposed, as a linear layer's weight
        float[] scale = TestData.Array(n, 10), shift = TestData.Array(n, 11);
        float[] c0 = TestData.Array(m * ldc, 12);
        foreach (bool accumulate in new[] { false, true })
        {
            float[] fast = (float[])c0.Clone(), expected = (float[])c0.Clone();
            Gemm.Multiply(false, true, m, n, k, a, k, b, k, fast, ldc, accumulate, new GemmEpilogue(scale, shift, act));
            GemmReference.Multiply(false, true, m, n, k, a, k, b, k, expected, ldc, accumulate);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    expected[i * ldc + j] = Activated(expected[i * ldc + j] * scale[j] + shift[j], act);
            // The padding columns between rows (j ≥ n) must be untouched.
            TensorAssert.Close(fast, expected, atol: 1e-4f * MathF.Max(1f, MathF.Sqrt(k / 100f)), rtol: 1e-4f, what: $"accumulate={accumulate}");
        }
    }

    [TestCase(false), TestCase(true)]
    public void Multiply_WithEpilogue_IsBitwiseTheProductWithTheMapAppliedAfterwards(bool perRow)
    {
        // Full tiles apply the map as their sums are stored, edge tiles afterwards: either way each element must be
        // act(fma(c, scale, shift)) of the plain product's c, bit for bit. 300 × 200: full 8×32 tiles and edges in
        // both directions, on several threads; k = 600 in three k-blocks (the map on the last only); single-threaded when small.
        foreach ((int m, int n, int k) in new[] { (300, 200, 250), (64, 100, 600), (20, 70, 9) })
            foreach (FusedActivation act in Enum.GetValues<FusedActivation>())
                foreach (bool accumulate in new[] { false, true })
                {
                    int ldc = n + 3;
                    float[] a = TestData.Array(m * k, 40), b = TestData.Array(k * n, 41);
                    float[] scale = TestData.Array(perRow ? m : n, 42), shift = TestData.Array(perRow ? m : n, 43);
                    float[] fused = TestData.Array(m * ldc, 44), expected = (float[])fused.Clone();
                    Gemm.Multiply(false, false, m, n, k, a, k, b, n, fused, ldc, accumulate, new GemmEpilogue(scale, shift, act, perRow));
                    Gemm.Multiply(false, false, m, n, k, a, k, b, n, expected, ldc, accumulate);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++)
                        {
                            int e = perRow ? i : j;
                            float v = MathF.FusedMultiplyAdd(expected[i * ldc + j], scale[e], shift[e]);
                            expected[i * ldc + j] = act switch
                            {
                                FusedActivation.Relu => MathF.Max(v, 0f),
                                FusedActivation.Sigmoid => Logistic.Of(v),
                                _ => v,
                            };
                        }
                    Assert.That(fused.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)),
                        $"{m}x{n}x{k} {act} accumulate={accumulate}");
                }
    }

    [TestCaseSource(nameof(EpilogueCases))]
    public void Multiply_WithPerRowEpilogue_EqualsProductThenAffineThenActivation(int m, int n, int k, FusedActivation act)
    {
        // A convolution's product: op(A) = the weights (rows = output channels), B untransposed (the unfolded image);
        // B transposed too, for the narrow row-dot-product path.
        int ldc = n + 3;
        float[] a = TestData.Array(m * k, 30), b = TestData.Array(k * n, 31);
        float[] scale = TestData.Array(m, 32), shift = TestData.Array(m, 33);
        float[] c0 = TestData.Array(m * ldc, 34);
        foreach (bool transB in new[] { false, true })
        foreach (bool accumulate in new[] { false, true })
        {
            float[] fast = (float[])c0.Clone(), expected = (float[])c0.Clone();
            int ldb = transB ? k : n;
            Gemm.Multiply(false, transB, m, n, k, a, k, b, ldb, fast, ldc, accumulate, new GemmEpilogue(scale, shift, act, perRow: true));
            GemmReference.Multiply(false, transB, m, n, k, a, k, b, ldb, expected, ldc, accumulate);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    expected[i * ldc + j] = Activated(expected[i * ldc + j] * scale[i] + shift[i], act);
            TensorAssert.Close(fast, expected, atol: 1e-4f * MathF.Max(1f, MathF.Sqrt(k / 100f)), rtol: 1e-4f, what: $"transB={transB}, accumulate={accumulate}");
        }
    }

    [Test]
    public void Multiply_EpilogueRelu_PropagatesNaNLikeTheReluOp()
    {
        // C = A·Bᵀ, (4×1)·(1×45): rows of NaN, positives, negatives and zeros, through the Vector512 (32), Vector256 (8)
        // and scalar (5) columns.
        const int n = 45;
        float[] a = [float.NaN, 1f, -1f, 0f], b = Enumerable.Repeat(1f, n).ToArray();
        float[] c = new float[4 * n], plain = new float[4 * n], ones = Enumerable.Repeat(1f, n).ToArray(), zeros = new float[n];
        Gemm.Multiply(false, true, 4, n, 1, a, 1, b, 1, c, n, false, new GemmEpilogue(ones, zeros, FusedActivation.Relu));
        Gemm.Multiply(false, true, 4, n, 1, a, 1, b, 1, plain, n, false);
        Assert.That(c, Is.EqualTo(Tensor.FromArray(plain, 4, n).Relu().ToArray()));
    }

    [Test]
    public void Multiply_EmptyInnerDimension_ClearsOrKeeps()
    {
        float[] c = [1, 2, 3, 4];
        Gemm.Multiply(false, false, 2, 2, 0, [], 0, [], 2, c, 2, accumulate: true);
        Assert.That(c, Is.EqualTo(new float[] { 1, 2, 3, 4 }));
        Gemm.Multiply(false, false, 2, 2, 0, [], 0, [], 2, c, 2, accumulate: false);
        Assert.That(c, Is.All.EqualTo(0f));
    }

    /// <summary>The dispatch a reader can check against docs/architecture.md: which strategy each of the workloads'
    /// products takes (AVX-512 machines; with two threads allowed).</summary>
    [TestCase(0, 10, 10, false, false, true, "Empty")]
    [TestCase(10, 10, 0, false, false, true, "NoDepth")]
    [TestCase(60, 100, 784, false, true, true, "SingleThread")]      // fig1's first layer at the training batch
    [TestCase(1000, 10, 100, false, true, true, "RowDots")]          // a 10-way classifier, x·Wᵀ
    [TestCase(1000, 10, 100, false, true, false, "SingleThread")]    // the same with a panels-only operand
    [TestCase(128, 1024, 1024, false, true, true, "SplitStatic")]    // the mlp's training products
    [TestCase(1024, 1024, 1024, false, false, true, "Shared")]       // large and tall
    [TestCase(1000, 1024, 784, false, true, true, "Shared")]         // the mlp's eval fc1
    [TestCase(64, 288, 12544, false, true, true, "SplitK")]          // a convolution's batch-wide weight gradient
    [TestCase(16, 16, 200_000, false, false, true, "SplitK")]        // in four parts, on any thread count
    [TestCase(32, 40, 784, false, false, true, "SingleThread")]      // too small a product to split
    [TestCase(64, 288, 12544, false, true, false, "SplitStatic")]    // ... not for panels-only operands
    public void Choose_PicksTheStrategyForTheShape(int m, int n, int k, bool transA, bool transB, bool hasValues, string strategy)
    {
        var expected = Enum.Parse<Gemm.Strategy>(strategy);
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) Assert.Ignore("The dispatch's AVX-512 thresholds.");
        Assert.That(Gemm.Choose(m, n, k, transA, transB, hasValues, threads: 2), Is.EqualTo(expected));
        // The strategies that change the order of an element's sum follow the shape alone; the others take one thread.
        bool shapeOnly = expected is Gemm.Strategy.Empty or Gemm.Strategy.NoDepth or Gemm.Strategy.RowDots or Gemm.Strategy.SplitK;
        Assert.That(Gemm.Choose(m, n, k, transA, transB, hasValues, threads: 1), Is.EqualTo(shapeOnly ? expected : Gemm.Strategy.SingleThread), "one thread");
    }
}

/// <summary>Products with a B packed beforehand (<see cref="Gemm.Pack"/>) against the same products packing B themselves.</summary>
[TestFixture]
public class PackedBTests
{
    private static IEnumerable<TestCaseData> Shapes()
    {
        // One thread; threads split by rows and by columns; shared between threads (several k-blocks, edge tiles);
        // narrow row dot products; split k; k-blocks that leave 3 rows; columns beyond one NC block on one thread.
        int[][] sizes = [[9, 33, 17], [7, 5, 3], [300, 250, 200], [100, 900, 300], [700, 1000, 400], [1000, 1024, 784],
                         [130, 10, 1024], [32, 20, 50_000], [50, 96, 270], [40, 2100, 30]];
        foreach (int[] s in sizes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    yield return new TestCaseData(s[0], s[1], s[2], ta, tb).SetArgDisplayNames($"{s[0]}x{s[1]}x{s[2]}", $"transA={ta}", $"transB={tb}");
    }

    [TestCaseSource(nameof(Shapes))]
    public void Multiply_WithPackedB_EqualsUnpackedBitwise(int m, int n, int k, bool transA, bool transB)
    {
        int lda = (transA ? m : k) + 1, ldb = (transB ? k : n) + 2, ldc = n + 3;
        float[] a = TestData.Array((transA ? k : m) * lda, 21), b = TestData.Array((transB ? n : k) * ldb, 22);
        float[] c0 = TestData.Array(m * ldc, 23), scale = TestData.Array(n, 24), shift = TestData.Array(n, 25);
        PackedB packed = Gemm.Pack(transB, k, n, b, ldb);
        foreach (bool accumulate in new[] { false, true })
            foreach (FusedActivation act in new[] { FusedActivation.None, FusedActivation.Relu })
            {
                float[] expected = (float[])c0.Clone(), actual = (float[])c0.Clone();
                var epilogue = act == FusedActivation.None ? default : new GemmEpilogue(scale, shift, act);
                Gemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, expected, ldc, accumulate, epilogue);
                Gemm.Multiply(transA, m, k, a, lda, packed, actual, ldc, accumulate, epilogue);
                Assert.That(actual, Is.EqualTo(expected), $"accumulate={accumulate}, {act}");
            }
    }

    [TestCase(9, 33, 17, false)]
    [TestCase(64, 196, 288, false)]    // a convolution's product: weight × packed columns
    [TestCase(300, 250, 200, true)]
    [TestCase(1000, 1024, 600, false)] // shared between threads
    [TestCase(1000, 1024, 600, true)]
    public void Multiply_WithPackedAAndB_EqualsUnpackedBitwise(int m, int n, int k, bool transA)
    {
        int lda = (transA ? m : k) + 1, ldc = n + 2;
        float[] a = TestData.Array((transA ? k : m) * lda, 35), b = TestData.Array(k * n, 36), c0 = TestData.Array(m * ldc, 37);
        float[] scale = TestData.Array(m, 38), shift = TestData.Array(m, 39);
        PackedA packedA = Gemm.PackA(transA, m, k, a, lda, reuse: null);
        PackedB packedB = Gemm.Pack(false, k, n, b, n);
        foreach (bool accumulate in new[] { false, true })
        {
            float[] expected = (float[])c0.Clone(), actual = (float[])c0.Clone();
            var epilogue = new GemmEpilogue(scale, shift, FusedActivation.Relu, perRow: true);
            Gemm.Multiply(transA, false, m, n, k, a, lda, b, n, expected, ldc, accumulate, epilogue);
            Gemm.Multiply(packedA, packedB, actual, ldc, accumulate, epilogue);
            Assert.That(actual, Is.EqualTo(expected), $"accumulate={accumulate}");
        }
        // A buffer large enough is filled in place.
        Assert.That(Gemm.PackA(transA, m, k, a, lda, packedA.Panels).Panels, Is.SameAs(packedA.Panels));
    }

    [Test]
    public void Pack_CopiesTheOperand()
    {
        const int m = 500, n = 300, k = 200;
        float[] a = TestData.Array(m * k, 26), b = TestData.Array(n * k, 27);
        float[] before = new float[m * n], after = new float[m * n];
        PackedB packed = Gemm.Pack(true, k, n, b, k);
        Gemm.Multiply(false, m, k, a, k, packed, before, n, false, default);
        Array.Fill(b, 1e6f);   // the source changes after packing: the packed operand does not
        Gemm.Multiply(false, m, k, a, k, packed, after, n, false, default);
        Assert.That(after, Is.EqualTo(before));
        Assert.That(packed.Values, Is.Not.SameAs(b));
    }

    [Test]
    public void Pack_RejectsAShortOperand_AndMultiplyAMismatchedK()
    {
        var e = Assert.Throws<ArgumentException>(() => Gemm.Pack(true, 10, 4, new float[39], 10));
        Assert.That(e!.Message, Does.Contain("needs 40 values, got 39"));
        Assert.Throws<ArgumentException>(() => Gemm.Pack(false, 4, 10, new float[40], 9));
        PackedB packed = Gemm.Pack(true, 10, 4, new float[40], 10);
        var mismatch = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, 2, 11, new float[22], 11, packed, new float[8], 4, false, default));
        Assert.That(mismatch!.Message, Does.Contain("k = 10").And.Contain("k = 11"));
    }

    [Test]
    public void PackedB_ServesDeepAndShallowProducts_EachBitwiseAsUnpacked()
    {
        // One frozen weight, multiplied by a tall batch (deep k-blocks: its deep layout is made on first use) and by a
        // short one (the layout made by Pack), in either order of calls.
        const int n = 200, k = 700;
        float[] b = TestData.Array(n * k, 40);
        PackedB packed = Gemm.Pack(true, k, n, b, k);
        foreach (int m in new[] { 500, 60, 500 })
        {
            float[] a = TestData.Array(m * k, 41), expected = new float[m * n], actual = new float[m * n];
            Gemm.Multiply(false, true, m, n, k, a, k, b, k, expected, n, false);
            Gemm.Multiply(false, m, k, a, k, packed, actual, n, false, default);
            Assert.That(actual, Is.EqualTo(expected), $"m = {m}");
        }
    }

    [Test]
    public void Multiply_WithPackedAAndAWorkspaceOfOtherKBlocks_Throws()
    {
        if (!Gemm.PacksB) Assert.Ignore("packed operands need Vector256");
        const int m = 400, k = 300, n = 50;
        PackedA a = Gemm.PackA(false, m, k, TestData.Array(m * k, 42), k, reuse: null);
        PackedB workspace = Gemm.PackedWorkspace(1, k, n, null);   // made for short products: KC-deep blocks
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, workspace, new float[m * n], n, false, default));
        Assert.That(e!.Message, Does.Contain("different k-blocks").And.Contain("m = 400"));
        var alone = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, m, k, new float[m * k], k, workspace, new float[m * n], n, false, default));
        Assert.That(alone!.Message, Does.Contain("m = 400"));
    }

    [NonParallelizable]   // changes the global thread count for a moment
    [Test]
    public void Multiply_WithPackedB_SharedBetweenThreads_EqualsOneThreadBitwise()
    {
        const int m = 1000, n = 1024, k = 600;
        float[] a = TestData.Array(m * k, 28), b = TestData.Array(n * k, 29);
        PackedB packed = Gemm.Pack(true, k, n, b, k);
        float[] serial = new float[m * n];
        Gemm.Multiply(false, m, k, a, k, packed, serial, n, false, default, parallel: false);
        int saved = Parallelism.MaxThreads;
        try
        {
            foreach (int threads in new[] { 2, 3, 8 })
            {
                Parallelism.MaxThreads = threads;
                float[] shared = new float[m * n];
                Gemm.Multiply(false, m, k, a, k, packed, shared, n, false, default);
                Assert.That(shared, Is.EqualTo(serial), $"{threads} threads");
            }
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    // A speed property no timed test can hold: with profile-guided optimisation the JIT once inlined whole products into
    // the worker loop and the kernel ran at half speed there (docs/performance.md). The kernels must stay calls.
    [TestCase("Kernel8x32")]
    [TestCase("Kernel8x16")]
    [TestCase("Kernel6x16")]
    [TestCase("Dot4x4")]   // a kernel added later belongs here too
    public void RegisterBlockedKernels_AreNeverInlined(string name)
    {
        var method = typeof(Gemm).GetMethod(name, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static);
        Assert.That(method, Is.Not.Null, $"Gemm.{name} not found");
        Assert.That(method!.MethodImplementationFlags & System.Reflection.MethodImplAttributes.NoInlining,
            Is.EqualTo(System.Reflection.MethodImplAttributes.NoInlining), $"Gemm.{name} must be [MethodImpl(MethodImplOptions.NoInlining)]");
    }
}
