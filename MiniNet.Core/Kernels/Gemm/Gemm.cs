using System.Diagnostics;

namespace MiniNet.Kernels;

// Single-precision matrix multiply C = op(A)·op(B) (+ C), op = identity or transpose, row-major, in parts a reader can
// find (the Goto/BLIS layering: five loops around a micro-kernel):
//   Gemm.cs             the entry points and the dispatch: which strategy computes which product (Choose)
//   Gemm.Blocking.cs    the block sizes (KC, MC, NC, the deep blocking; MR × NR tiles) and the thresholds
//   Gemm.Problem.cs     one product: its operands (values, prepacked or panels only), its output and its blocking
//   Gemm.Packing.cs     copying blocks of op(A) and op(B) into the panels the micro-kernel reads
//   Gemm.MacroKernel.cs the loops over k-blocks, row blocks and tiles on one thread
//   Gemm.MicroKernels.cs the register-blocked kernels (8×32 Vector512, 6×16 Vector256) and edge tiles
//   Gemm.Epilogue.cs    the per-column or per-row affine map and activation applied as tiles are written
//   Gemm.RowDots.cs     narrow products with a transposed B as dot products of rows, unpacked
//   Gemm.Schedulers.cs  the threaded strategies: a static split, a split of k
//   Gemm.Shared.cs      the threaded strategy for large products: one shared packed B, tasks from both ends
//   PackedOperands.cs   operands packed once for many products (a frozen weight, a convolution's weight and columns)
//
// Every strategy sums each element of C in an order fixed by the product's shape alone, so results are bitwise the
// same on any number of threads (the strategies that run on several threads split C, never an element's sum, except
// a split of k, whose parts are fixed by the shape); products with packed operands are bitwise equal to products that
// pack the same values themselves. Reference twin: Kernels/Reference/GemmReference.cs.
internal static unsafe partial class Gemm
{
    /// <summary>How a product is computed, chosen by <see cref="Choose"/> from its shape, operands and threads.</summary>
    internal enum Strategy
    {
        /// <summary>m = 0 or n = 0: nothing to write.</summary>
        Empty,
        /// <summary>k = 0: C is cleared (or kept, when accumulating), then the epilogue applied.</summary>
        NoDepth,
        /// <summary>No Vector256: the scalar reference.</summary>
        Scalar,
        /// <summary>A few outputs of x·Wᵀ: dot products of contiguous rows, unpacked (<see cref="RowDots"/>).</summary>
        RowDots,
        /// <summary>Packed blocks on the calling thread (<see cref="Run"/>).</summary>
        SingleThread,
        /// <summary>k dwarfs m and n (weight gradients): k is cut into a fixed number of slices summed apart, then added
        /// (<see cref="SplitK"/>).</summary>
        SplitK,
        /// <summary>Large and tall: one packed B shared by the threads, tasks from both ends (<see cref="Shared"/>).</summary>
        Shared,
        /// <summary>One contiguous part of C per thread, split by rows or by columns (<see cref="SplitStatic"/>).</summary>
        SplitStatic,
    }

    /// <summary>The strategy for an m × n × k product on at most <paramref name="threads"/> threads.</summary>
    /// <param name="hasValues">Both operands' values can be read unpacked (neither is panels only), which row dot
    /// products and a split of k need.</param>
    internal static Strategy Choose(int m, int n, int k, bool transA, bool transB, bool hasValues, int threads)
    {
        if (m == 0 || n == 0) return Strategy.Empty;
        if (k == 0) return Strategy.NoDepth;
        if (!s_avx256) return Strategy.Scalar;
        if (!transA && transB && n <= NarrowN && k >= 16 && s_avx512 && hasValues) return Strategy.RowDots;
        // A split of k changes the order of each element's sum, so it is chosen from the shape alone, never from the
        // thread count: one thread runs the same parts one after another.
        if (SplitKParts(m, n, k, hasValues) > 1) return Strategy.SplitK;
        if (ThreadsFor(m, n, k, threads) == 1) return Strategy.SingleThread;
        if (m >= 4 * MC && n <= NC && (long)m * n * k >= SharedThreshold) return Strategy.Shared;
        return Strategy.SplitStatic;
    }

    /// <summary>The threads a product of m × n × k uses when <paramref name="threads"/> are allowed: one below
    /// <see cref="ParallelThreshold"/> multiply-adds.</summary>
    private static int ThreadsFor(int m, int n, int k, int threads) => (long)m * n * k < ParallelThreshold ? 1 : threads;

    /// <summary>c[i, j] = Σ_p op(a)[i, p]·op(b)[p, j] (+ c[i, j] when <paramref name="accumulate"/>).</summary>
    /// <param name="transA">op(a)[i, p] = a[p·lda + i] when true, a[i·lda + p] otherwise.</param>
    /// <param name="transB">op(b)[p, j] = b[j·ldb + p] when true, b[p·ldb + j] otherwise.</param>
    /// <param name="parallel">Allow several threads (callers already running in parallel pass false).</param>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        bool accumulate, bool parallel = true) =>
        Multiply(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, default, parallel);

    /// <summary>c[i, j] = act(c'[i, j]·scale[j] + shift[j]) with c' the product above: the epilogue is applied to each
    /// tile of C as soon as its sum is complete.</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        bool accumulate, GemmEpilogue epilogue, bool parallel = true)
    {
        Debug.Assert(m >= 0 && n >= 0 && k >= 0);
        Debug.Assert(!epilogue.IsActive || Math.Min(epilogue.Scale.Length, epilogue.Shift.Length) >= (epilogue.PerRow ? m : n));
        fixed (float* pa = a, pb = b, pc = c, ps = epilogue.Scale, pt = epilogue.Shift)
        {
            var output = new Output(pc, ldc, accumulate, new Epilogue(ps, pt, epilogue.Activation, epilogue.PerRow));   // an empty scale fixes to null: inactive
            Execute(new Problem(m, n, k, Operand.OfValues(transA, pa, lda), Operand.OfValues(transB, pb, ldb), output), parallel, a, b, c);
        }
    }

    /// <summary>c = act((op(a)·B)·scale + shift) (+ c) with B packed beforehand (see <see cref="PackedB"/>): bitwise equal
    /// to the product with B's values unpacked, without the cost of packing them.</summary>
    public static void Multiply(bool transA, int m, int k, ReadOnlySpan<float> a, int lda, PackedB b, Span<float> c, int ldc,
        bool accumulate, GemmEpilogue epilogue, bool parallel = true)
    {
        if (b.K != k) throw new ArgumentException($"Gemm: the packed B has k = {b.K}, the product needs k = {k}.", nameof(b));
        if (b.Values is null && b.Deep != IsDeep(m, k))
            throw new ArgumentException($"Gemm: the workspace B was made for products of other k-blocks than one with m = {m}; make it with m = {m}.", nameof(b));
        Debug.Assert(!epilogue.IsActive || Math.Min(epilogue.Scale.Length, epilogue.Shift.Length) >= (epilogue.PerRow ? m : b.N));
        if (!s_avx256 || k == 0 || b.Panels is null)
        {
            // No panels to read (no packed kernels here, nothing to multiply, or a copy packed without them): the
            // product of the values, dispatched as any other.
            Multiply(transA, b.TransB, m, b.N, k, a, lda, b.Values, b.Ldb, c, ldc, accumulate, epilogue, parallel);
            return;
        }
        // A prepacked copy has both layouts (the deep one made on demand); a workspace was packed in this shape's k-blocks.
        float[] panels = b.Values is not null && IsDeep(m, k) ? DeepPanels(b) : b.Panels;
        fixed (float* pa = a, pb = b.Values, pc = c, pre = panels, ps = epilogue.Scale, pt = epilogue.Shift)
        {
            var output = new Output(pc, ldc, accumulate, new Epilogue(ps, pt, epilogue.Activation, epilogue.PerRow));
            Operand operandB = b.Values is null ? Operand.OfPanels(Align64(pre)) : Operand.OfPrepacked(b.TransB, pb, b.Ldb, Align64(pre));
            Execute(new Problem(m, b.N, k, Operand.OfValues(transA, pa, lda), operandB, output), parallel, a, b.Values, c);
        }
    }

    /// <summary>c = act((A·B)·scale + shift) (+ c) with both operands packed beforehand: bitwise equal to the product of
    /// their values.</summary>
    internal static void Multiply(PackedA a, PackedB b, Span<float> c, int ldc, bool accumulate, GemmEpilogue epilogue, bool parallel = true)
    {
        if (a.K != b.K) throw new ArgumentException($"Gemm: the packed A has k = {a.K}, the packed B k = {b.K}.", nameof(b));
        if (b.Panels is null) throw new ArgumentException("Gemm: the packed B holds no panels.", nameof(b));
        if (b.Values is null && b.Deep != IsDeep(a.M, a.K))
            throw new ArgumentException(
                $"Gemm: the packed A ({a.M}×{a.K}) and the workspace B were packed in different k-blocks; make the workspace with m = {a.M}.", nameof(b));
        Debug.Assert(!epilogue.IsActive || Math.Min(epilogue.Scale.Length, epilogue.Shift.Length) >= (epilogue.PerRow ? a.M : b.N));
        if (a.K == 0)
        {
            // Nothing to multiply: C is cleared or kept, then the epilogue applied, as for any product with k = 0.
            Multiply(false, b.TransB, a.M, b.N, 0, default, 0, default, b.Ldb, c, ldc, accumulate, epilogue, parallel);
            return;
        }
        float[] panels = b.Values is not null && IsDeep(a.M, a.K) ? DeepPanels(b) : b.Panels;
        fixed (float* pb = b.Values, pc = c, pre = panels, preA = a.Panels, ps = epilogue.Scale, pt = epilogue.Shift)
        {
            var output = new Output(pc, ldc, accumulate, new Epilogue(ps, pt, epilogue.Activation, epilogue.PerRow));
            Operand operandB = b.Values is null ? Operand.OfPanels(Align64(pre)) : Operand.OfPrepacked(b.TransB, pb, b.Ldb, Align64(pre));
            Execute(new Problem(a.M, b.N, a.K, Operand.OfPanels(Align64(preA)), operandB, output), parallel, default, b.Values, c);
        }
    }

    /// <summary>Computes <paramref name="p"/> with the strategy <see cref="Choose"/> picks. The spans are the operands'
    /// values for the scalar reference (empty where an operand has none).</summary>
    private static void Execute(in Problem p, bool parallel, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c)
    {
        int threads = ThreadsFor(p.M, p.N, p.K, parallel ? Parallelism.MaxThreads : 1);
        switch (Choose(p.M, p.N, p.K, p.A.Trans, p.B.Trans, p.A.HasValues && p.B.HasValues, threads))
        {
            case Strategy.Empty:
                return;
            case Strategy.NoDepth:
                if (!p.C.Accumulate) for (int i = 0; i < p.M; i++) c.Slice(i * p.C.Ld, p.N).Clear();
                ApplyEpilogue(p.C.Values, p.C.Ld, p.M, p.N, 0, 0, p.C.Epilogue);
                return;
            case Strategy.Scalar:
                Reference.GemmReference.Multiply(p.A.Trans, p.B.Trans, p.M, p.N, p.K, a, p.A.Ld, b, p.B.Ld, c, p.C.Ld, p.C.Accumulate);
                ApplyEpilogue(p.C.Values, p.C.Ld, p.M, p.N, 0, 0, p.C.Epilogue);
                return;
            case Strategy.RowDots:
                RowDotsOnThreads(p, threads);
                return;
            case Strategy.SingleThread:
                Run(p, 0, p.M, 0, p.N);
                return;
            case Strategy.SplitK:
                SplitK(p, SplitKParts(p.M, p.N, p.K, hasValues: true), threads);
                ApplyEpilogue(p.C.Values, p.C.Ld, p.M, p.N, 0, 0, p.C.Epilogue);   // after the parts are added
                return;
            case Strategy.Shared:
                Shared.Run(p, threads);
                return;
            case Strategy.SplitStatic:
                SplitStatic(p, threads);
                return;
        }
    }
}
