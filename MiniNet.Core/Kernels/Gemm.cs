using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MiniNet.Kernels;

// Single-precision matrix multiply C = op(A)·op(B) (+ C), op = identity or transpose, row-major.
//
// Algorithm (the Goto/BLIS layering): for each KC-deep slice of k, copy ("pack") a KC×NC block of op(B) into
// NR-wide column panels and an MC×KC block of op(A) into MR-tall row panels, so the micro-kernel reads both
// sequentially. Tall, deep products (m ≥ 384, k > 256: a batch of 1000 through a wide layer) use slices of up to
// 1024 and blocks of 48 rows instead (IsDeep), which reload C a quarter as often. The micro-kernel keeps an MR×NR tile
// of C in registers (Vector512: 8×32, 16 accumulators; Vector256: 6×16, 12 accumulators) and performs KC rank-1 updates with fused multiply-adds. Packing absorbs
// the transposes, so no operand is ever copied transposed. Edge tiles are zero-padded in the packed buffers
// and written back through a small stack tile.
//
// Epilogue: a product that feeds a per-column affine map and an activation (a linear layer followed by an inference-mode
// BatchNorm and ReLU, say) can have them applied to each tile of C right after its last k-block, while the tile is still
// in L1, instead of in separate passes over the whole output: c = act(c·scale[j] + shift[j]), or per row,
// c = act(c·scale[i] + shift[i]) (a convolution followed by a BatchNorm2d: its output channels are the rows). A full
// 8×32 tile applies it in the kernel as its sums are stored, still in registers (the same operations, so the same
// values); edge tiles and the Vector256 kernel apply it to the stored tile.
//
// Prepacked B: an operand that does not change between products (an inference weight) can be packed once, in the layout
// the products read (PackedB), so that each product skips packing it; the sums are the same, so the results are
// bitwise equal to products with the unpacked operand. Tall, deep products read a second layout in their deeper
// k-blocks, packed from the copy's values on first use.
//
// Threads: a large product (m ≥ 4·MC and at least SharedThreshold multiply-adds) is shared: for each k-block the
// threads pack op(B) together into one buffer (unless it is prepacked), then take blocks of rows from the two ends of the list (Shared).
// Smaller ones are cut into one contiguous part per thread (rows, or columns when n ≥ 2m), each thread packing its
// own operands; every element of C is then summed in the same order whatever the split. When k dwarfs m and n
// (weight gradients: k = batch·positions), k is split instead: each thread sums its part of k into its own buffer
// and the parts are added in thread order (never for the tall, deep products of IsDeep, whose k-blocks are already
// deep). Either way results are bitwise reproducible for a given thread count.
// Reference twin: Kernels/Reference/GemmReference.cs.
internal static unsafe class Gemm
{
    private const int KC = 256, MC = 96, NC = 2048;

    /// <summary>The blocking of tall, deep products (<see cref="IsDeep"/>): k-blocks of up to 1024 and blocks of 48 rows of A,
    /// so that C is loaded and stored once per 1024 steps of k instead of per 256 (reloading it cost about 5% of the
    /// micro-kernel's rate with both cores running) while A's block (192 KB) and B's panel (128 KB) stay in L2. On the
    /// Zen 5 host the mlp's eval ran 7–10% faster and 1024³ 3–8%; for the training batch (m = 128) and the benchmark
    /// CNN's per-image products (64 output channels) the usual blocking was as fast or faster (docs/performance.md),
    /// hence two. Convolutions with 384 or more output channels take the deep blocking unmeasured.</summary>
    private const int DeepKC = 1024, DeepMC = 48;

    private static readonly bool s_avx512 = Vector512.IsHardwareAccelerated;
    private static readonly bool s_avx256 = Vector256.IsHardwareAccelerated;
    private static readonly int MR = s_avx512 ? 8 : 6;
    private static readonly int NR = s_avx512 ? 32 : 16;

    /// <summary>Below this many multiply-adds (about 40 µs of one core) a single thread is faster than waking a second
    /// (measured on the fig1 workload's 60×784·784×100 products).</summary>
    private const long ParallelThreshold = 1L << 23;

    /// <summary>Multiply-adds from which a product with m ≥ 4·MC is shared between threads (<see cref="Shared"/>): below
    /// it (fig1's 1000×784·784×100 inference layer, a training batch's weight gradients) the static split was faster.</summary>
    private const long SharedThreshold = 1L << 28;

    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;

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
        if (m == 0 || n == 0) return;
        fixed (float* ps = epilogue.Scale, pt = epilogue.Shift)
        {
            var epi = new Epilogue(ps, pt, epilogue.Activation, epilogue.PerRow);   // an empty scale fixes to null: inactive
            if (k == 0)
            {
                if (!accumulate) for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
                ApplyAfterwards(c, m, n, ldc, epi);
                return;
            }
            if (!s_avx256)
            {
                Reference.GemmReference.Multiply(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                ApplyAfterwards(c, m, n, ldc, epi);
                return;
            }
            MultiplyPacked(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, epi, parallel);
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
        if (!s_avx256 || k == 0 || b.Panels is null)
        {
            Multiply(transA, b.TransB, m, b.N, k, a, lda, b.Values, b.Ldb, c, ldc, accumulate, epilogue, parallel);
            return;
        }
        Debug.Assert(!epilogue.IsActive || Math.Min(epilogue.Scale.Length, epilogue.Shift.Length) >= (epilogue.PerRow ? m : b.N));
        if (m == 0 || b.N == 0) return;
        fixed (float* ps = epilogue.Scale, pt = epilogue.Shift)
            MultiplyPacked(transA, b.TransB, m, b.N, k, a, lda, b.Values, b.Ldb, c, ldc, accumulate,
                new Epilogue(ps, pt, epilogue.Activation, epilogue.PerRow), parallel, b);
    }

    /// <summary>Copies op(B) (k × n; b[j·ldb + p] when <paramref name="transB"/>, b[p·ldb + j] otherwise) and packs it
    /// for <see cref="Multiply(bool, int, int, ReadOnlySpan{float}, int, PackedB, Span{float}, int, bool, GemmEpilogue, bool)"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="b"/> is too short for k, n and ldb.</exception>
    public static PackedB Pack(bool transB, int k, int n, ReadOnlySpan<float> b, int ldb)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        int rows = transB ? n : k, cols = transB ? k : n;
        if (cols > ldb && rows > 1) throw new ArgumentException($"Gemm.Pack: ldb = {ldb} is less than a row of {cols}.", nameof(ldb));
        long needed = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ldb + cols;
        if (b.Length < needed)
            throw new ArgumentException($"Gemm.Pack: a {k}×{n} B with ldb = {ldb} needs {needed} values, got {b.Length}.", nameof(b));
        float[] values = b[..(int)needed].ToArray();
        if (!s_avx256 || k == 0 || n == 0) return new PackedB(transB, k, n, values, ldb, null, deep: false);

        return new PackedB(transB, k, n, values, ldb, PackAllBlocks(transB, k, n, values, ldb, deep: false), deep: false);
    }

    /// <summary>All of op(B)'s k-blocks (in the usual or the deep blocking) and panels, packed into a new pinned buffer in
    /// the order the products read them.</summary>
    private static float[] PackAllBlocks(bool transB, int k, int n, float[] values, int ldb, bool deep)
    {
        int kStep = KStep(k, deep);
        float[] packed = PinnedBuffer(checked(k * PanelCount(n) * NR + 16), reuse: null);
        fixed (float* pb = values, dst0 = packed)
        {
            var p = new Problem(false, transB, 0, n, k, null, 0, pb, ldb, null, 0, accumulate: false, prepacked: Align64(dst0));
            for (int pc = 0; pc < k; pc += kStep) PackB(p, pc, Math.Min(kStep, k - pc), 0, n, p.PrepackedBlock(pc));
        }
        return packed;
    }

    /// <summary>A prepacked B's panels in the deep blocking's k-blocks, packed from its values on the first deep product
    /// that reads it and kept: a frozen weight used at a large batch holds both layouts.</summary>
    private static float[] DeepPanels(PackedB b)
    {
        if (Volatile.Read(ref b.DeepPanels) is { } made) return made;
        lock (b)
        {
            if (b.DeepPanels is null) Volatile.Write(ref b.DeepPanels, PackAllBlocks(b.TransB, b.K, b.N, b.Values!, b.Ldb, deep: true));
            return b.DeepPanels!;
        }
    }

    /// <summary>Packs op(A) (m × k; a[p·lda + i] when <paramref name="transA"/>, a[i·lda + p] otherwise) for products
    /// that reuse it (a convolution's weight, for every image of a batch); <paramref name="reuse"/>, when large enough,
    /// is filled instead of a new buffer: it must be the pinned buffer of an earlier PackA or
    /// <see cref="PackedWorkspace"/> (panels are found by aligning its address, which must not move). Needs
    /// <see cref="PacksB"/>.</summary>
    internal static PackedA PackA(bool transA, int m, int k, ReadOnlySpan<float> a, int lda, float[]? reuse)
    {
        if (!s_avx256) throw new PlatformNotSupportedException("Gemm: packed operands need Vector256.");
        float[] panels = PinnedBuffer(checked(k * PaddedRows(m) + 16), reuse);
        int kStep = KStep(k, IsDeep(m, k));
        fixed (float* pa = a, dst0 = panels)
        {
            var p = new Problem(transA, false, m, 0, k, pa, lda, null, 0, null, 0, accumulate: false, prepackedA: Align64(dst0));
            for (int pc = 0; pc < k; pc += kStep) PackA(p, 0, m, pc, Math.Min(kStep, k - pc), p.PrepackedABlock(pc, 0, 0));
        }
        return new PackedA(m, k, panels);
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
        if (a.M == 0 || b.N == 0) return;
        if (a.K == 0)
        {
            // Nothing to multiply: C is cleared or kept, then the epilogue applied, as for any product with k = 0.
            Multiply(false, b.TransB, a.M, b.N, 0, default, 0, default, b.Ldb, c, ldc, accumulate, epilogue, parallel);
            return;
        }
        fixed (float* ps = epilogue.Scale, pt = epilogue.Shift)
            MultiplyPacked(false, b.TransB, a.M, b.N, a.K, default, a.K, b.Values, b.Ldb, c, ldc, accumulate,
                new Epilogue(ps, pt, epilogue.Activation, epilogue.PerRow), parallel, b, a);
    }

    private static void ApplyAfterwards(Span<float> c, int m, int n, int ldc, in Epilogue epi)
    {
        if (!epi.IsActive) return;
        fixed (float* pc = c) ApplyEpilogue(pc, ldc, m, n, 0, 0, epi);
    }

    private static void MultiplyPacked(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        bool accumulate, Epilogue epi, bool parallel, PackedB? prepacked = null, PackedA? prepackedA = null)
    {
        // A packed workspace has only its panels, and a packed A none of its values: the paths that read the
        // operands unpacked (row dot products, split k) are not open to them.
        bool hasValues = (prepacked is null || prepacked.Values is not null) && prepackedA is null;
        // Packed A and workspaces were packed in this shape's k-blocks (the callers check); a prepacked copy of B has
        // both layouts (the deep one made on demand).
        bool deep = IsDeep(m, k);
        float[]? panels = prepacked is null ? null : deep && prepacked.Values is not null ? DeepPanels(prepacked) : prepacked.Panels;
        fixed (float* pa = a, pb = b, pc = c, pre0 = panels, preA0 = prepackedA?.Panels)
        {
            var p = new Problem(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, epi, pre0 == null ? null : Align64(pre0),
                preA0 == null ? null : Align64(preA0), deep);
            int threads = parallel && (long)m * n * k >= ParallelThreshold ? Parallelism.MaxThreads : 1;
            if (!transA && transB && n <= NarrowN && k >= 16 && s_avx512 && hasValues)
            {
                // A classifier's few outputs: dot products of contiguous rows, no packing (see RowDots).
                int blocks = (m + 3) / 4;
                threads = Math.Min(threads, blocks);
                if (threads == 1) RowDots(p, 0, m);
                else
                    Parallelism.For(threads, t => RowDots(p, Math.Min(m, blocks * t / threads * 4), Math.Min(m, blocks * (t + 1) / threads * 4)));
                return;
            }
            if (threads == 1)
            {
                Run(p, 0, m, 0, n);
                return;
            }
            if ((long)k >= 8L * Math.Max(m, n) && k >= 2 * KC * threads && hasValues && !deep)
            {
                SplitK(p, threads);
                ApplyEpilogue(pc, ldc, m, n, 0, 0, epi);   // after the parts are added
                return;
            }
            if (m >= 4 * MC && n <= NC && (long)m * n * k >= SharedThreshold) Shared.Run(p, threads);   // one shared B, tasks from both ends
            else SplitStatic(p, threads);
        }
    }

    /// <summary>One contiguous part of C per thread, each thread packing its own operands: m is split (whole tiles of
    /// rows) unless n is at least twice as large. Split by rows, each thread writes whole rows of C, and the next layer,
    /// split the same way, reads them back as its A on the same core (an inference batch of 1000 ran 2.5–4.5% faster
    /// than split by columns). Each thread then packs all of B, which costs too much when m is small (a training batch
    /// of 128 against 1024 outputs), so that splits n.</summary>
    private static void SplitStatic(Problem p, int threads)
    {
        bool splitN = p.N >= 2 * p.M;
        int tile = splitN ? NR : MR, extent = splitN ? p.N : p.M;
        int tiles = (extent + tile - 1) / tile;
        threads = Math.Min(threads, tiles);
        Parallelism.For(threads, t =>
        {
            int start = (int)((long)tiles * t / threads) * tile;
            int end = Math.Min(extent, (int)((long)tiles * (t + 1) / threads) * tile);
            if (splitN) Run(p, 0, p.M, start, end);
            else Run(p, start, end, 0, p.N);
        });
    }

    /// <summary>One product. <see cref="Prepacked"/>, when not null, holds all of op(B) packed (<see cref="PackedB"/>); the
    /// sub-problems of <see cref="SplitK"/> leave it null and read <see cref="B"/>.</summary>
    private readonly struct Problem(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, Epilogue epilogue = default, float* prepacked = null,
        float* prepackedA = null, bool deep = false)
    {
        public readonly bool TransA = transA, TransB = transB, Accumulate = accumulate;
        public readonly int M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc;

        /// <summary>The k-block depth (<see cref="Gemm.KStep(int, bool)"/>) and the rows of A packed at a time.</summary>
        public readonly int KStep = Gemm.KStep(k, deep), RowBlock = deep ? DeepMC : MC;
        public readonly float* A = a, B = b, C = c, Prepacked = prepacked, PrepackedA = prepackedA;
        public readonly Epilogue Epilogue = epilogue;

        /// <summary>Rows ic.. of the prepacked A's k-block that starts at row <paramref name="pc"/> of op(B) (blocks end to
        /// end, each holding all of op(A)'s row panels, m rounded up to whole panels; ic a multiple of MR).</summary>
        public float* PrepackedABlock(int pc, int ic, int kc) => PrepackedA + (long)pc * PaddedRows(M) + (long)ic * kc;

        /// <summary>The prepacked k-block that starts at row <paramref name="pc"/> of op(B) (a multiple of
        /// <see cref="KStep"/>): the blocks lie end to end, each holding all panels.</summary>
        public float* PrepackedBlock(int pc) => Prepacked + (long)pc * PanelCount(N) * NR;
    }

    /// <summary>Whether a product takes the deep blocking (DeepKC, DeepMC): at least 4·MC rows (as for sharing it between
    /// threads; the training batch's products stay as they are) and more than KC steps of k. It depends on m and k
    /// alone, which every packed operand knows when it is made (a prepacked B, which does not know m, makes the deep
    /// layout on first use), and not on the thread count, so the sums are the same on one thread as on two.</summary>
    internal static bool IsDeep(int m, int k) => m >= 4 * MC && k > KC;

    /// <summary>Equal k-blocks of at most KC (DeepKC for the deep blocking, <see cref="IsDeep"/>): k = 784 runs as
    /// 4 × 196 rather than 3 × 256 + 16, whose last sliver would reload and store the whole of C for 16 multiply-adds.</summary>
    internal static int KStep(int k, bool deep = false)
    {
        int most = deep ? DeepKC : KC, kBlocks = (k + most - 1) / most;
        return (k + kBlocks - 1) / kBlocks;
    }

    private static int PanelCount(int n) => (n + NR - 1) / NR;

    private static int PaddedRows(int m) => (m + MR - 1) / MR * MR;

    /// <summary>The width of B's packed panels (NR).</summary>
    internal static int PanelWidth => NR;

    /// <summary>The index in a pinned packed buffer where its panels start (for tests and tools that read it as an array).</summary>
    internal static int PanelStart(float[] pinned)
    {
        fixed (float* p = pinned) return (int)(Align64(p) - p);
    }

    /// <summary>Whether products read a <see cref="PackedB"/>'s panels (the packed kernels run on this machine); otherwise
    /// only its values are used.</summary>
    internal static bool PacksB => s_avx256;

    /// <summary>A pinned buffer for op(B) (k × n, untransposed) in packed form, to be filled in place (by
    /// <see cref="Layout.Im2ColPacked"/>) and multiplied by <see cref="Multiply(bool, int, int, ReadOnlySpan{float}, int, PackedB, Span{float}, int, bool, GemmEpilogue, bool)"/>
    /// any number of times. It holds no values, so only machines where <see cref="PacksB"/> can use it, and products
    /// with it never take the paths that read B unpacked (row dot products, a split of k). <paramref name="reuse"/>, when
    /// large enough, must be the pinned buffer of an earlier workspace or <see cref="PackA(bool, int, int, ReadOnlySpan{float}, int, float[])"/>.
    /// <paramref name="m"/>: the rows of the products it will take part in, which decide its k-blocks
    /// (<see cref="IsDeep"/>, <see cref="KStepOf"/>).</summary>
    internal static PackedB PackedWorkspace(int m, int k, int n, float[]? reuse)
    {
        if (!s_avx256) throw new PlatformNotSupportedException("Gemm: packed operands need Vector256.");
        return new PackedB(false, k, n, null, n, PinnedBuffer(checked(k * PanelCount(n) * NR + 16), reuse), IsDeep(m, k));
    }

    /// <summary>The depth of a packed operand's k-blocks (where the panels of a k-block start: see <see cref="Layout.Im2ColPacked"/>).</summary>
    internal static int KStepOf(PackedB b) => KStep(b.K, b.Deep);

    /// <summary>A buffer for packed panels: <paramref name="reuse"/> when it holds <paramref name="size"/> floats, otherwise
    /// a new one. Pinned, because the panels are found by aligning the array's address, which must not move between
    /// products.</summary>
    private static float[] PinnedBuffer(int size, float[]? reuse) =>
        reuse is not null && reuse.Length >= size ? reuse : GC.AllocateUninitializedArray<float>(size, pinned: true);

    /// <summary><see cref="GemmEpilogue"/> with its arrays fixed; inactive when <see cref="Scale"/> is null.</summary>
    private readonly struct Epilogue(float* scale, float* shift, FusedActivation activation, bool perRow)
    {
        public readonly float* Scale = scale, Shift = shift;
        public readonly FusedActivation Activation = activation;
        public readonly bool PerRow = perRow;
        public bool IsActive => Scale != null;

        /// <summary>The map for the tile whose first element is C[row0, col0]: its scale and shift start at the tile's
        /// first row (per row) or column.</summary>
        public Epilogue ForTile(int row0, int col0)
        {
            if (!IsActive) return this;
            int offset = PerRow ? row0 : col0;
            return new Epilogue(Scale + offset, Shift + offset, Activation, PerRow);
        }
    }

    /// <summary>c[r, j] = act(c[r, j]·scale[col0 + j] + shift[col0 + j]) for r &lt; rows, j &lt; cols, or with
    /// scale[row0 + r] and shift[row0 + r] for a per-row epilogue.</summary>
    private static void ApplyEpilogue(float* c, int ldc, int rows, int cols, int row0, int col0, in Epilogue e)
    {
        if (!e.IsActive) return;
        for (int r = 0; r < rows; r++)
        {
            float* row = c + (long)r * ldc;
            if (e.PerRow) AffineRow(row, cols, e.Scale[row0 + r], e.Shift[row0 + r], e.Activation);
            else AffineRow(row, cols, e.Scale + col0, e.Shift + col0, e.Activation);
        }
    }

    /// <summary>row[j] = act(row[j]·scale[j] + shift[j]).</summary>
    private static void AffineRow(float* row, int cols, float* scale, float* shift, FusedActivation act)
    {
        int j = 0;
        if (s_avx512)
            for (; j + 16 <= cols; j += 16)
            {
                var v = Vector512.FusedMultiplyAdd(Vector512.Load(row + j), Vector512.Load(scale + j), Vector512.Load(shift + j));
                Vector512.Store(Activate(v, act), row + j);
            }
        if (s_avx256)
            for (; j + 8 <= cols; j += 8)
            {
                var v = Vector256.FusedMultiplyAdd(Vector256.Load(row + j), Vector256.Load(scale + j), Vector256.Load(shift + j));
                Vector256.Store(Activate(v, act), row + j);
            }
        for (; j < cols; j++)
        {
            float v = MathF.FusedMultiplyAdd(row[j], scale[j], shift[j]);
            row[j] = Activate(v, act);
        }
    }

    /// <summary>row[j] = act(row[j]·scale + shift): one row's scale and shift.</summary>
    private static void AffineRow(float* row, int cols, float scale, float shift, FusedActivation act)
    {
        int j = 0;
        if (s_avx512)
        {
            Vector512<float> s = Vector512.Create(scale), t = Vector512.Create(shift);
            for (; j + 16 <= cols; j += 16)
            {
                var v = Vector512.FusedMultiplyAdd(Vector512.Load(row + j), s, t);
                Vector512.Store(Activate(v, act), row + j);
            }
        }
        if (s_avx256)
        {
            Vector256<float> s = Vector256.Create(scale), t = Vector256.Create(shift);
            for (; j + 8 <= cols; j += 8)
            {
                var v = Vector256.FusedMultiplyAdd(Vector256.Load(row + j), s, t);
                Vector256.Store(Activate(v, act), row + j);
            }
        }
        for (; j < cols; j++)
        {
            float v = MathF.FusedMultiplyAdd(row[j], scale, shift);
            row[j] = Activate(v, act);
        }
    }

    /// <summary>The epilogue's activation of one value; the vector overloads below apply it to each lane.</summary>
    private static float Activate(float v, FusedActivation act) => act switch
    {
        FusedActivation.Relu => MathF.Max(v, 0f),
        FusedActivation.Sigmoid => Logistic.Of(v),
        _ => v,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Activate(Vector256<float> v, FusedActivation act) => act switch
    {
        FusedActivation.Relu => Vector256.Max(v, Vector256<float>.Zero),
        FusedActivation.Sigmoid => Logistic.Of(v),
        _ => v,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Activate(Vector512<float> v, FusedActivation act) => act switch
    {
        FusedActivation.Relu => Vector512.Max(v, Vector512<float>.Zero),
        FusedActivation.Sigmoid => Logistic.Of(v),
        _ => v,
    };

    /// <summary>Each thread multiplies over its own slice of k (whole KC blocks); thread 0 writes C, the others a pooled
    /// buffer, added to C in thread order afterwards.</summary>
    private static void SplitK(Problem p, int threads)
    {
        int blocks = (p.K + KC - 1) / KC;
        float[][] partial = new float[threads - 1][];
        for (int t = 1; t < threads; t++) partial[t - 1] = BufferPool.Rent(p.M * p.N);
        try
        {
            Parallelism.For(threads, t =>
            {
                int k0 = Math.Min(p.K, blocks * t / threads * KC), k1 = Math.Min(p.K, blocks * (t + 1) / threads * KC);
                fixed (float* buffer = t == 0 ? null : partial[t - 1])
                {
                    // op(A)[:, k0..k1] and op(B)[k0..k1, :] are offsets into the same arrays.
                    float* a = p.A + (p.TransA ? (long)k0 * p.Lda : k0);
                    float* b = p.B + (p.TransB ? k0 : (long)k0 * p.Ldb);
                    var part = t == 0
                        ? new Problem(p.TransA, p.TransB, p.M, p.N, k1 - k0, a, p.Lda, b, p.Ldb, p.C, p.Ldc, p.Accumulate)
                        : new Problem(p.TransA, p.TransB, p.M, p.N, k1 - k0, a, p.Lda, b, p.Ldb, buffer, p.N, accumulate: false);
                    Run(part, 0, p.M, 0, p.N);
                }
            });
            for (int t = 1; t < threads; t++)
                for (int i = 0; i < p.M; i++)
                {
                    var row = new Span<float>(p.C + (long)i * p.Ldc, p.N);
                    System.Numerics.Tensors.TensorPrimitives.Add(row, partial[t - 1].AsSpan(i * p.N, p.N), row);
                }
        }
        finally
        {
            foreach (float[] buffer in partial) BufferPool.Return(buffer);
        }
    }

    /// <summary>Computes the block C[i0..i1, j0..j1] on the calling thread.</summary>
    private static void Run(in Problem p, int i0, int i1, int j0, int j1)
    {
        float[] packA = PackABuffer();
        // This thread's block of B (grown for the deep blocking's k-blocks when one first needs it).
        int packBSize = p.KStep * (NC + 32) + 16;
        if (p.Prepacked == null && (t_packB?.Length ?? 0) < packBSize)
            t_packB = GC.AllocateUninitializedArray<float>(packBSize, pinned: true);
        float[]? packB = t_packB;
        fixed (float* pa0 = packA, pb0 = packB)
        {
            // Panels start on a 64-byte boundary, so that no Vector512 load of B straddles two cache lines.
            float* pa = Align64(pa0), pb = Align64(pb0);
            int kStep = p.KStep, rowBlock = p.RowBlock;
            for (int jc = j0; jc < j1; jc += NC)
            {
                int nc = Math.Min(NC, j1 - jc);
                for (int pc = 0; pc < p.K; pc += kStep)
                {
                    int kc = Math.Min(kStep, p.K - pc);
                    bool accumulate = p.Accumulate || pc > 0;
                    bool last = pc + kc >= p.K;
                    // A prepacked block holds all panels: the one for column jc is jc / NR panels in.
                    float* block = p.Prepacked != null ? p.PrepackedBlock(pc) + (long)jc * kc : pb;
                    if (p.Prepacked == null) PackB(p, pc, kc, jc, nc, pb);
                    for (int ic = i0; ic < i1; ic += rowBlock)
                    {
                        int mc = Math.Min(rowBlock, i1 - ic);
                        float* rowsOfA = pa;
                        if (p.PrepackedA != null) rowsOfA = p.PrepackedABlock(pc, ic, kc);
                        else PackA(p, ic, mc, pc, kc, pa);
                        MacroKernel(p, kc, rowsOfA, ic, mc, block, jc, jc, jc + nc, accumulate, last);
                    }
                }
            }
        }
    }

    /// <summary>The first 64-byte boundary at or after <paramref name="p"/>: where a packed buffer's panels start.</summary>
    internal static float* Align64(float* p) => (float*)(((nuint)p + 63) & ~(nuint)63);

    /// <summary>This thread's buffer for a packed block of A (16 floats of slack for <see cref="Align64"/>).</summary>
    private static float[] PackABuffer() =>
        t_packA ??= GC.AllocateUninitializedArray<float>(Math.Max(MC * KC, DeepMC * DeepKC) + 16, pinned: true);

    /// <summary>A product computed by several threads together (Goto's scheme shared by threads, as BLIS does): for each
    /// k-block, the threads pack the block of op(B) into one shared buffer (a few rows of B across all full panels at a time,
    /// or a panel at a time when B is transposed; see <see cref="PackUnit"/>), then take tasks (a block of
    /// rows × a chunk of columns, each packing its own rows of A) as they come, from the two ends of the list, so a
    /// thread slowed by the machine's other work simply takes fewer. B is packed once instead of once per thread (split by rows, the inference layers
    /// of the mlp spent 8–9% of each thread's time packing all of a weight matrix). Two buffers alternate between
    /// k-blocks, so a thread can pack the next block while another finishes its last task of this one. Used for
    /// m ≥ 4·MC and <see cref="SharedThreshold"/> multiply-adds: sharing the training batch's products (m = 128) and
    /// fig1's small inference layers as well made both slower, so static splits are kept there.</summary>
    /// <remarks>Nothing waits on work that nobody has claimed: a thread waits only until packing units or tasks that another
    /// thread took are finished. One thread alone (if the others never start) does all of it, so the scheme cannot
    /// deadlock. Each element of C is summed by one task in k-block order, so the result does not depend on the thread
    /// count or on who took what.</remarks>
    private sealed class Shared
    {
        private readonly Problem _p;
        private readonly int _kStep, _kBlocks, _panels, _rowBlock, _rowBlocks, _colChunk, _colChunks, _tasks;
        private readonly bool _packByRows;
        private readonly int _packUnits, _rowGroups, _fullColumns;
        private readonly int[] _packNext, _packDone, _taskDone, _taskFinished;
        private readonly long[] _taskEnds;   // per k-block: the next task from the front (low half) and the end (high half)
        private readonly float[]? _packB0, _packB1;

        private Shared(in Problem p, int threads)
        {
            _p = p;
            _kStep = p.KStep;
            _kBlocks = (p.K + _kStep - 1) / _kStep;
            _panels = PanelCount(p.N);
            // Row blocks of at most p.RowBlock rows, equal in whole tiles; columns cut into chunks when there are too few row
            // blocks to give each thread about four tasks.
            int rowBlocks = (p.M + p.RowBlock - 1) / p.RowBlock;
            _rowBlock = ((p.M + rowBlocks - 1) / rowBlocks + MR - 1) / MR * MR;
            _rowBlocks = (p.M + _rowBlock - 1) / _rowBlock;
            int chunks = Math.Clamp((4 * threads + _rowBlocks - 1) / _rowBlocks, 1, _panels);
            _colChunk = (_panels + chunks - 1) / chunks * NR;
            _colChunks = (p.N + _colChunk - 1) / _colChunk;
            _tasks = _rowBlocks * _colChunks;
            // Packing a k-block is cut into units the threads take in turn: groups of rows of B copied across all full
            // panels when B is not transposed (read sequentially, as PackB does; panel by panel every step of p jumps a
            // row of B ahead), then the last, partial panel; or one panel per unit for a transposed B.
            _packByRows = !p.TransB && s_avx512;
            if (_packByRows)
            {
                _fullColumns = p.N / NR * NR;
                // Sized for the k step: a shorter last k-block may leave its last units empty.
                _rowGroups = _fullColumns == 0 ? 0 : (_kStep + RowsPerUnit - 1) / RowsPerUnit;
                _packUnits = _rowGroups + (_fullColumns < p.N ? 1 : 0);
            }
            else _packUnits = _panels;
            _packNext = new int[_kBlocks];
            _packDone = new int[_kBlocks];
            _taskEnds = new long[_kBlocks];
            for (int b = 0; b < _kBlocks; b++) _taskEnds[b] = (long)_tasks << 32;
            _taskDone = new int[_kBlocks];
            _taskFinished = new int[_kBlocks * _tasks];
            if (p.Prepacked != null) return;   // nothing to pack: _packB0 and _packB1 stay null
            int size = _kStep * _panels * NR + 16;
            _packB0 = BufferPool.Rent(size);
            _packB1 = _kBlocks > 1 ? BufferPool.Rent(size) : _packB0;
        }

        /// <summary>Computes the product on <paramref name="threads"/> threads; n must fit one block (n ≤ NC).</summary>
        public static void Run(in Problem p, int threads)
        {
            Debug.Assert(p.N <= NC);
            var shared = new Shared(p, threads);
            try
            {
                Parallelism.For(threads, shared.Participate);
            }
            finally
            {
                if (shared._packB0 is not null) BufferPool.Return(shared._packB0);
                if (shared._packB1 is not null && shared._packB1 != shared._packB0) BufferPool.Return(shared._packB1);
            }
        }

        /// <summary>Takes the next task of <paramref name="block"/>, from the front or from the back, or −1 when none is left.</summary>
        private int Claim(int block, bool fromBack)
        {
            while (true)
            {
                long ends = Volatile.Read(ref _taskEnds[block]);
                int front = (int)ends, back = (int)(ends >> 32);
                if (front >= back) return -1;
                long next = fromBack ? (uint)front | (long)(back - 1) << 32 : (uint)(front + 1) | (long)back << 32;
                if (Interlocked.CompareExchange(ref _taskEnds[block], next, ends) == ends) return fromBack ? back - 1 : front;
            }
        }

        /// <summary>One thread's share. Participant 1 takes tasks from the back and the others from the front, so with two
        /// threads each keeps to its own end of the rows, k-block after k-block and layer after layer (the rows it wrote
        /// stay in its cache), and they meet wherever the slower one got to.</summary>
        private void Participate(int index)
        {
            bool fromBack = index == 1;
            fixed (float* pa0 = PackABuffer(), b00 = _packB0, b10 = _packB1)
            {
                float* pa = Align64(pa0), b0 = b00 == null ? null : Align64(b00), b1 = b10 == null ? null : Align64(b10);
                int packedRows = -1, packedBlock = -1;   // the rows of A this thread's buffer holds, and for which k-block
                for (int block = 0; block < _kBlocks; block++)
                {
                    int pc = block * _kStep, kc = Math.Min(_kStep, _p.K - pc);
                    float* pb;
                    int i;
                    if (_p.Prepacked != null) pb = _p.PrepackedBlock(pc);
                    else
                    {
                        pb = (block & 1) == 0 ? b0 : b1;
                        // The buffer was last read by the tasks of block − 2: they must be finished (almost always long since).
                        if (block >= 2) WaitFor(ref _taskDone[block - 2], _tasks);
                        while ((i = Interlocked.Increment(ref _packNext[block]) - 1) < _packUnits)
                        {
                            PackUnit(pc, kc, i, pb);
                            Interlocked.Increment(ref _packDone[block]);
                        }
                        WaitFor(ref _packDone[block], _packUnits);
                    }
                    bool accumulate = _p.Accumulate || pc > 0, last = pc + kc >= _p.K;
                    while ((i = Claim(block, fromBack)) >= 0)
                    {
                        int ic = i / _colChunks * _rowBlock, mc = Math.Min(_rowBlock, _p.M - ic);
                        int j0 = i % _colChunks * _colChunk, j1 = Math.Min(_p.N, j0 + _colChunk);
                        float* rowsOfA = pa;
                        if (_p.PrepackedA != null) rowsOfA = _p.PrepackedABlock(pc, ic, kc);
                        else if (packedRows != ic || packedBlock != block)
                        {
                            PackA(_p, ic, mc, pc, kc, pa);
                            (packedRows, packedBlock) = (ic, block);
                        }
                        // The same tile of C in the previous k-block must be summed first (taken before any of this
                        // block's, so it is finished or under way).
                        if (block > 0) WaitFor(ref _taskFinished[(block - 1) * _tasks + i], 1);
                        MacroKernel(_p, kc, rowsOfA, ic, mc, pb, 0, j0, j1, accumulate, last);
                        Volatile.Write(ref _taskFinished[block * _tasks + i], 1);
                        Interlocked.Increment(ref _taskDone[block]);
                    }
                }
            }
        }

        /// <summary>Rows of B per packing unit when B is not transposed (and AVX-512 runs): 16 rows (64 KB of a 1024-wide
        /// B) per unit. Packed panel by panel instead, the 1024³ product spent 488–515 µs of each thread's 6.2–7.1 ms packing B (each step of
        /// p a new 4 KB page); 16 rows across all panels, 177–193 µs.</summary>
        private const int RowsPerUnit = 4 * RowsPerPass;

        /// <summary>Packs unit <paramref name="unit"/> of the k-block at <paramref name="pc"/> (kc deep) into <paramref name="pb"/>.</summary>
        private void PackUnit(int pc, int kc, int unit, float* pb)
        {
            if (_packByRows && unit < _rowGroups)
            {
                int u0 = unit * RowsPerUnit;
                CopyRowRangeToPanels(_p, pc, u0, Math.Min(kc, u0 + RowsPerUnit), 0, _fullColumns, pb, kc);
            }
            else if (_packByRows)
                PackBPanel(_p, pc, kc, _fullColumns, _p.N - _fullColumns, pb + (long)_fullColumns * kc);   // the partial panel
            else
                PackBPanel(_p, pc, kc, unit * NR, Math.Min(NR, _p.N - unit * NR), pb + (long)unit * NR * kc);
        }

        private static void WaitFor(ref int counter, int target)
        {
            var wait = new SpinWait();
            while (Volatile.Read(ref counter) < target) wait.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>C[ic..ic+mc, j0..j1] (+)= a packed block of A × packed panels of B, tile by tile; <paramref name="pb"/>'s
    /// first panel holds column <paramref name="pbColumn"/>. The epilogue follows each tile's last k-block.</summary>
    private static void MacroKernel(in Problem p, int kc, float* pa, int ic, int mc, float* pb, int pbColumn, int j0, int j1,
        bool accumulate, bool last)
    {
        int mr = MR, nr = NR;
        for (int jr = j0; jr < j1; jr += nr)
        {
            int nTile = Math.Min(nr, j1 - jr);
            for (int ir = 0; ir < mc; ir += mr)
            {
                int mTile = Math.Min(mr, mc - ir);
                float* cTile = p.C + (long)(ic + ir) * p.Ldc + jr;
                float* aPanel = pa + ir * kc;
                float* bPanel = pb + (jr - pbColumn) * kc;
                if (mTile == mr && nTile == nr && s_avx512)
                {
                    // The epilogue is applied as the sums are stored, while they are still in registers.
                    Kernel8x32(kc, aPanel, bPanel, cTile, p.Ldc, accumulate, last ? p.Epilogue.ForTile(ic + ir, jr) : default);
                    continue;
                }
                if (mTile == mr && nTile == nr)
                    Kernel6x16(kc, aPanel, bPanel, cTile, p.Ldc, accumulate);
                else
                    EdgeTile(kc, aPanel, bPanel, cTile, p.Ldc, mTile, nTile, accumulate);
                if (last) ApplyEpilogue(cTile, p.Ldc, mTile, nTile, ic + ir, jr, p.Epilogue);
            }
        }
    }

    /// <summary>Products at most this wide with a transposed B (x·Wᵀ for a layer with few outputs) run as row dot products.</summary>
    private const int NarrowN = 16;

    /// <summary>Rows i0..i1 of C = A·Bᵀ for a narrow B: c[i, j] is the dot product of row i of A and row j of B, both
    /// contiguous, so nothing is packed (the packed path would pad n to a 32-wide tile and copy all of A). Blocks of
    /// 4 rows × 4 columns keep 16 accumulators; B's few rows stay in L1 while each block of A's rows is read once per
    /// 4 columns.</summary>
    private static void RowDots(in Problem p, int i0, int i1)
    {
        int k = p.K, kv = k & ~15;
        float* sums = stackalloc float[16];
        for (int i = i0; i < i1; i += 4)
        {
            int rows = Math.Min(4, i1 - i);
            for (int j = 0; j < p.N; j += 4)
            {
                int cols = Math.Min(4, p.N - j);
                // Rows past the edge repeat the last valid one (their sums are discarded).
                float* a0 = p.A + (long)i * p.Lda, a1 = p.A + (long)(i + Math.Min(1, rows - 1)) * p.Lda,
                    a2 = p.A + (long)(i + Math.Min(2, rows - 1)) * p.Lda, a3 = p.A + (long)(i + Math.Min(3, rows - 1)) * p.Lda;
                float* b0 = p.B + (long)j * p.Ldb, b1 = p.B + (long)(j + Math.Min(1, cols - 1)) * p.Ldb,
                    b2 = p.B + (long)(j + Math.Min(2, cols - 1)) * p.Ldb, b3 = p.B + (long)(j + Math.Min(3, cols - 1)) * p.Ldb;
                Dot4x4(kv, a0, a1, a2, a3, b0, b1, b2, b3, sums);
                for (int r = 0; r < rows; r++)
                {
                    float* ar = p.A + (long)(i + r) * p.Lda, crow = p.C + (long)(i + r) * p.Ldc + j;
                    for (int c = 0; c < cols; c++)
                    {
                        float* bc = p.B + (long)(j + c) * p.Ldb;
                        float v = sums[r * 4 + c];
                        for (int q = kv; q < k; q++) v = MathF.FusedMultiplyAdd(ar[q], bc[q], v);
                        crow[c] = p.Accumulate ? crow[c] + v : v;
                    }
                }
                ApplyEpilogue(p.C + (long)i * p.Ldc + j, p.Ldc, rows, cols, i, j, p.Epilogue);
            }
        }
    }

    /// <summary>sums[r·4 + c] = Σ_{q &lt; kv} a_r[q]·b_c[q], kv a multiple of 16.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]   // see Kernel8x32
    private static void Dot4x4(int kv, float* a0, float* a1, float* a2, float* a3, float* b0, float* b1, float* b2, float* b3, float* sums)
    {
        Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default,
            s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        for (int q = 0; q < kv; q += 16)
        {
            Vector512<float> x0 = Vector512.Load(b0 + q), x1 = Vector512.Load(b1 + q), x2 = Vector512.Load(b2 + q), x3 = Vector512.Load(b3 + q);
            Vector512<float> a = Vector512.Load(a0 + q);
            s00 = Vector512.FusedMultiplyAdd(a, x0, s00); s01 = Vector512.FusedMultiplyAdd(a, x1, s01);
            s02 = Vector512.FusedMultiplyAdd(a, x2, s02); s03 = Vector512.FusedMultiplyAdd(a, x3, s03);
            a = Vector512.Load(a1 + q);
            s10 = Vector512.FusedMultiplyAdd(a, x0, s10); s11 = Vector512.FusedMultiplyAdd(a, x1, s11);
            s12 = Vector512.FusedMultiplyAdd(a, x2, s12); s13 = Vector512.FusedMultiplyAdd(a, x3, s13);
            a = Vector512.Load(a2 + q);
            s20 = Vector512.FusedMultiplyAdd(a, x0, s20); s21 = Vector512.FusedMultiplyAdd(a, x1, s21);
            s22 = Vector512.FusedMultiplyAdd(a, x2, s22); s23 = Vector512.FusedMultiplyAdd(a, x3, s23);
            a = Vector512.Load(a3 + q);
            s30 = Vector512.FusedMultiplyAdd(a, x0, s30); s31 = Vector512.FusedMultiplyAdd(a, x1, s31);
            s32 = Vector512.FusedMultiplyAdd(a, x2, s32); s33 = Vector512.FusedMultiplyAdd(a, x3, s33);
        }
        sums[0] = Vector512.Sum(s00); sums[1] = Vector512.Sum(s01); sums[2] = Vector512.Sum(s02); sums[3] = Vector512.Sum(s03);
        sums[4] = Vector512.Sum(s10); sums[5] = Vector512.Sum(s11); sums[6] = Vector512.Sum(s12); sums[7] = Vector512.Sum(s13);
        sums[8] = Vector512.Sum(s20); sums[9] = Vector512.Sum(s21); sums[10] = Vector512.Sum(s22); sums[11] = Vector512.Sum(s23);
        sums[12] = Vector512.Sum(s30); sums[13] = Vector512.Sum(s31); sums[14] = Vector512.Sum(s32); sums[15] = Vector512.Sum(s33);
    }

    /// <summary>Packs op(A)[ic..ic+mc, pc..pc+kc] as MR-row panels: panel r holds, for each p, MR consecutive rows.</summary>
    private static void PackA(in Problem p, int ic, int mc, int pc, int kc, float* dst)
    {
        int mr = MR;
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            float* panel = dst + ir * kc;
            int q0 = 0;
            if (p.TransA)
            {
                // op(A)[i, p] = A[p·lda + i]: each step of p is a contiguous run of rows.
                if (rows == 8)
                    for (; q0 < kc; q0++) Vector256.Store(Vector256.Load(p.A + (long)(pc + q0) * p.Lda + ic + ir), panel + q0 * 8);
                for (int q = q0; q < kc; q++)
                {
                    float* src = p.A + (long)(pc + q) * p.Lda + ic + ir;
                    for (int r = 0; r < rows; r++) panel[q * mr + r] = src[r];
                }
            }
            else
            {
                // Rows are contiguous in p: transpose 8×8 blocks in registers.
                float* src0 = p.A + (long)(ic + ir) * p.Lda + pc;
                if (rows == 8 && Avx.IsSupported)
                    for (; q0 + 8 <= kc; q0 += 8) Transpose8x8(src0 + q0, p.Lda, panel + q0 * 8, 8);
                for (int r = 0; r < rows; r++)
                {
                    float* src = src0 + (long)r * p.Lda;
                    for (int q = q0; q < kc; q++) panel[q * mr + r] = src[q];
                }
            }
            for (int r = rows; r < mr; r++)
                for (int q = 0; q < kc; q++) panel[q * mr + r] = 0f;
        }
    }

    /// <summary>Writes the transpose of the 8×8 block at <paramref name="src"/> (row stride <paramref name="srcStride"/>)
    /// to <paramref name="dst"/> (row stride <paramref name="dstStride"/>): dst[j·dstStride + i] = src[i·srcStride + j].</summary>
    private static void Transpose8x8(float* src, long srcStride, float* dst, long dstStride)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + srcStride),
            r2 = Avx.LoadVector256(src + 2 * srcStride), r3 = Avx.LoadVector256(src + 3 * srcStride),
            r4 = Avx.LoadVector256(src + 4 * srcStride), r5 = Avx.LoadVector256(src + 5 * srcStride),
            r6 = Avx.LoadVector256(src + 6 * srcStride), r7 = Avx.LoadVector256(src + 7 * srcStride);
        // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3),
            t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE),
            u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>Packs op(B)[pc..pc+kc, jc..jc+nc] as NR-column panels: panel j holds, for each p, NR consecutive columns.</summary>
    private static void PackB(in Problem p, int pc, int kc, int jc, int nc, float* dst)
    {
        int full = 0;
        if (!p.TransB && s_avx512)
        {
            // Rows of op(B) are rows of B: copy a few rows at a time across all the full panels, so B is read
            // sequentially. Panel by panel, every step of p would jump a whole row of B ahead (4 KB for n = 1024), a
            // stride the hardware prefetchers do not follow across pages (packing a 1024×1024 B from memory: 7 GB/s
            // panel by panel, 14 GB/s this way).
            full = nc / NR * NR;
            CopyRowRangeToPanels(p, pc, 0, kc, jc, full, dst, kc);
        }
        for (int jr = full; jr < nc; jr += NR) PackBPanel(p, pc, kc, jc + jr, Math.Min(NR, nc - jr), dst + jr * kc);
    }

    /// <summary>Rows copied per pass of <see cref="CopyRowsToPanels"/>: each panel then receives whole cache lines.</summary>
    private const int RowsPerPass = 4;

    /// <summary>Copies rows u0..u1 of the k-block at <paramref name="pc"/> (columns jc..jc+cols, cols a multiple of NR) into
    /// the block's panels at dst, <see cref="RowsPerPass"/> rows at a time (u0 a multiple of it).</summary>
    private static void CopyRowRangeToPanels(in Problem p, int pc, int u0, int u1, int jc, int cols, float* dst, int kc)
    {
        for (int u = u0; u < u1; u += RowsPerPass)
            CopyRowsToPanels(p, pc + u, Math.Min(RowsPerPass, u1 - u), jc, cols, dst + u * NR, kc);
    }

    /// <summary>Copies rows q0..q0+rows of B (columns jc..jc+cols, cols a multiple of NR) into the panels at dst, which
    /// points at the first panel's row for q0 (row q0 − pc of the k-block); consecutive panels are kc·NR apart.</summary>
    private static void CopyRowsToPanels(in Problem p, int q0, int rows, int jc, int cols, float* dst, int kc)
    {
        float* src = p.B + (long)q0 * p.Ldb + jc;
        for (int jr = 0; jr < cols; jr += NR, dst += NR * kc)
            for (int r = 0; r < rows; r++)
            {
                float* s = src + (long)r * p.Ldb + jr;
                Vector512.Store(Vector512.Load(s), dst + r * NR);
                Vector512.Store(Vector512.Load(s + 16), dst + r * NR + 16);
            }
    }

    /// <summary>Packs op(B)[pc..pc+kc, j..j+cols] (cols ≤ NR) as one NR-wide panel, zero-padded.</summary>
    private static void PackBPanel(in Problem p, int pc, int kc, int j, int cols, float* panel)
    {
        int nr = NR;
        if (!p.TransB)
        {
            for (int q = 0; q < kc; q++)
            {
                float* src = p.B + (long)(pc + q) * p.Ldb + j;
                float* row = panel + q * nr;
                int c = 0;
                if (cols == nr && s_avx512)
                {
                    for (; c + 16 <= nr; c += 16) Vector512.Store(Vector512.Load(src + c), row + c);
                    for (; c + 8 <= nr; c += 8) Vector256.Store(Vector256.Load(src + c), row + c);
                }
                for (; c < cols; c++) row[c] = src[c];
                for (; c < nr; c++) row[c] = 0f;
            }
        }
        else
        {
            // op(B)[p, j] = B[j·ldb + p]: transpose 8×8 blocks (8 columns × 8 steps of p) in registers, 8 columns at
            // a time along all of p, so the 8 rows of B being read stay in L1 (rows of B 4 KB apart all map to the
            // same L1 set; taking all 32 columns at each step of p evicted them before their second half was read:
            // the training batch's x·Wᵀ with a 1024×1024 W went from 300–323 to 341–354 GFLOP/s).
            int q0 = 0;
            if (cols == nr && Avx.IsSupported)
            {
                q0 = kc & ~7;
                for (int c = 0; c < nr; c += 8)
                    for (int q = 0; q < q0; q += 8)
                        Transpose8x8(p.B + (long)(j + c) * p.Ldb + pc + q, p.Ldb, panel + q * nr + c, nr);
            }
            for (int c = 0; c < cols; c++)
            {
                float* src = p.B + (long)(j + c) * p.Ldb + pc;
                for (int q = q0; q < kc; q++) panel[q * nr + c] = src[q];
            }
            for (int c = cols; c < nr; c++)
                for (int q = 0; q < kc; q++) panel[q * nr + c] = 0f;
        }
    }

    /// <summary>A partial tile: compute the full MR×NR tile into a stack buffer, then add the valid part to C. A tile at
    /// most 16 wide computes only the panel's left half (the last 4 columns of a 196-wide convolution product cost half a
    /// tile instead of a whole one); each sum is the same either way.</summary>
    private static void EdgeTile(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, bool accumulate)
    {
        float* tile = stackalloc float[8 * 32];
        if (s_avx512 && cols <= 16) Kernel8x16(kc, a, b, tile, NR);
        else MicroKernel(kc, a, b, tile, NR, accumulate: false);
        for (int r = 0; r < rows; r++)
        {
            float* src = tile + r * NR;
            float* dst = c + (long)r * ldc;
            if (accumulate) for (int j = 0; j < cols; j++) dst[j] += src[j];
            else for (int j = 0; j < cols; j++) dst[j] = src[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MicroKernel(int kc, float* a, float* b, float* c, int ldc, bool accumulate)
    {
        if (s_avx512) Kernel8x32(kc, a, b, c, ldc, accumulate, default);
        else Kernel6x16(kc, a, b, c, ldc, accumulate);
    }

    /// <summary>C[0..8, 0..32] (+)= Σ_q a[q·8 + r]·b[q·32 + j], 16 Vector512 accumulators, with the tile's epilogue
    /// (<see cref="Epilogue.ForTile"/>) applied as the sums are stored when it is active.</summary>
    /// <remarks>The kernels are never inlined. With profile-guided optimisation the JIT inlined a whole product, through
    /// the parallel region's delegate, into the worker loop (the profile showed it all as one method, the worker's), and
    /// the kernel ran at about half speed there, as when its accumulators do not all fit in registers: a process that only
    /// ran a frozen fig1 model's batch-1000 eval reached 290–326k images/s, against 547–596k with the kernels called (a
    /// call is cheap next to a kernel's multiply-adds: kc·MR·NR/16 vector operations, 144 even at k = 9).</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Kernel8x32(int kc, float* a, float* b, float* c, int ldc, bool accumulate, in Epilogue epilogue)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        PrefetchTile(c, ldc, 8);
        for (int q = 0; q < kc; q++, a += 8, b += 32)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            Vector512<float> x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }
        Store512(c, c00, c01, accumulate, epilogue, 0); c += ldc;
        Store512(c, c10, c11, accumulate, epilogue, 1); c += ldc;
        Store512(c, c20, c21, accumulate, epilogue, 2); c += ldc;
        Store512(c, c30, c31, accumulate, epilogue, 3); c += ldc;
        Store512(c, c40, c41, accumulate, epilogue, 4); c += ldc;
        Store512(c, c50, c51, accumulate, epilogue, 5); c += ldc;
        Store512(c, c60, c61, accumulate, epilogue, 6); c += ldc;
        Store512(c, c70, c71, accumulate, epilogue, 7);
    }

    /// <summary>Asks for the cache lines of a tile of C (rows × 32 floats) before the kernel's loop, so that they have
    /// arrived when its sums are added and stored at the end (kc·16 multiply-adds later, thousands of cycles at the
    /// usual depths): a tile of a large C has long left the caches by the next k-block, and its loads and stores would
    /// otherwise wait on memory at the end of each kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchTile(float* c, int ldc, int rows)
    {
        if (!Sse.IsSupported) return;
        for (int r = 0; r < rows; r++, c += ldc)
        {
            // 128 bytes: two cache lines, or three when the row does not start on a 64-byte boundary.
            Sse.Prefetch0(c);
            Sse.Prefetch0(c + 16);
            Sse.Prefetch0(c + 31);
        }
    }

    /// <summary>C[0..8, 0..16] = Σ_q a[q·8 + r]·b[q·32 + j]: the left half of a 32-wide panel, 8 Vector512 accumulators.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]   // see Kernel8x32
    private static void Kernel8x16(int kc, float* a, float* b, float* c, int ldc)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int q = 0; q < kc; q++, a += 8, b += 32)
        {
            Vector512<float> b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
        }
        Vector512.Store(c0, c); Vector512.Store(c1, c + ldc); Vector512.Store(c2, c + 2 * ldc); Vector512.Store(c3, c + 3 * ldc);
        Vector512.Store(c4, c + 4 * ldc); Vector512.Store(c5, c + 5 * ldc); Vector512.Store(c6, c + 6 * ldc); Vector512.Store(c7, c + 7 * ldc);
    }

    /// <summary>Row <paramref name="r"/> of a tile (32 columns) added to or written over C, with the epilogue's map
    /// applied when it is active, as the AffineRow overloads (per column, per row) would apply it to the stored sums
    /// (the same operations, so the same values).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> v0, Vector512<float> v1, bool accumulate, in Epilogue e, int r)
    {
        if (accumulate) { v0 += Vector512.Load(c); v1 += Vector512.Load(c + 16); }
        if (!e.IsActive)
        {
            Vector512.Store(v0, c);
            Vector512.Store(v1, c + 16);
            return;
        }
        if (e.PerRow)
        {
            Vector512<float> scale = Vector512.Create(e.Scale[r]), shift = Vector512.Create(e.Shift[r]);
            v0 = Vector512.FusedMultiplyAdd(v0, scale, shift);
            v1 = Vector512.FusedMultiplyAdd(v1, scale, shift);
        }
        else
        {
            v0 = Vector512.FusedMultiplyAdd(v0, Vector512.Load(e.Scale), Vector512.Load(e.Shift));
            v1 = Vector512.FusedMultiplyAdd(v1, Vector512.Load(e.Scale + 16), Vector512.Load(e.Shift + 16));
        }
        Vector512.Store(Activate(v0, e.Activation), c);
        Vector512.Store(Activate(v1, e.Activation), c + 16);
    }

    /// <summary>C[0..6, 0..16] (+)= Σ_q a[q·6 + r]·b[q·16 + j], 12 Vector256 accumulators.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]   // see Kernel8x32
    private static void Kernel6x16(int kc, float* a, float* b, float* c, int ldc, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int q = 0; q < kc; q++, a += 6, b += 16)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            Vector256<float> x = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
        }
        Store256(c, c00, c01, accumulate); c += ldc;
        Store256(c, c10, c11, accumulate); c += ldc;
        Store256(c, c20, c21, accumulate); c += ldc;
        Store256(c, c30, c31, accumulate); c += ldc;
        Store256(c, c40, c41, accumulate); c += ldc;
        Store256(c, c50, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> v0, Vector256<float> v1, bool accumulate)
    {
        if (accumulate) { v0 += Vector256.Load(c); v1 += Vector256.Load(c + 8); }
        Vector256.Store(v0, c);
        Vector256.Store(v1, c + 8);
    }
}

/// <summary>A per-column affine map and activation applied to a product's output as it is written:
/// c[i, j] = act(c[i, j]·scale[j] + shift[j]), or per row, act(c[i, j]·scale[i] + shift[i]) (a convolution's output
/// channels are the rows of its product). The default value applies nothing.</summary>
internal readonly ref struct GemmEpilogue(ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, FusedActivation activation, bool perRow = false)
{
    public ReadOnlySpan<float> Scale { get; } = scale;
    public ReadOnlySpan<float> Shift { get; } = shift;
    public FusedActivation Activation { get; } = activation;
    public bool PerRow { get; } = perRow;
    public bool IsActive => !Scale.IsEmpty;
}

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
