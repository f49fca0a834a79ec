using System.Runtime.Intrinsics;

namespace MiniNet.Kernels;

// Block sizes and thresholds: every number that shapes how a product is cut up, in one place.
internal static unsafe partial class Gemm
{
    /// <summary>The usual blocking: k-blocks of at most KC (a KC × NR panel of B and an MR × KC panel of A stay in L1
    /// while a tile is summed), blocks of MC rows of A (in L2), and NC columns of B per pass (B's block in L2/L3).</summary>
    private const int KC = 256, MC = 96, NC = 2048;

    /// <summary>The blocking of tall, deep products (<see cref="IsDeep"/>): k-blocks of up to 1024 and blocks of 48 rows of
    /// A, so that C is loaded and stored a quarter as often while A's block (192 KB) and B's panel (128 KB) stay in L2.
    /// The training batch's products (m = 128) and a convolution's per-image products keep the usual blocking, which
    /// suits them as well or better.</summary>
    private const int DeepKC = 1024, DeepMC = 48;

    private static readonly bool s_avx512 = Vector512.IsHardwareAccelerated;
    private static readonly bool s_avx256 = Vector256.IsHardwareAccelerated;

    /// <summary>The micro-kernel's tile of C: MR rows × NR columns (Vector512: 8 × 32 in 16 accumulators; Vector256:
    /// 6 × 16 in 12).</summary>
    private static readonly int MR = s_avx512 ? 8 : 6;
    private static readonly int NR = s_avx512 ? 32 : 16;

    /// <summary>Below this many multiply-adds (about 40 µs of one core's work) one thread is faster than waking a second.</summary>
    private const long ParallelThreshold = 1L << 23;

    /// <summary>Multiply-adds from which a product with m ≥ 4·MC is shared between threads (<see cref="Shared"/>); below it
    /// a static split is faster, because sharing costs synchronisation on every k-block.</summary>
    private const long SharedThreshold = 1L << 28;

    /// <summary>The slices of k a product is summed in (<see cref="Strategy.SplitK"/>), or 1 for none: 2 or 4 when k dwarfs
    /// m and n (at least 8·max(m, n)), each slice at least 2·KC deep, the product large enough to be worth threads, and
    /// not deep (<see cref="IsDeep"/>). A function of the shape only, so a product sums in the same order on one thread
    /// as on many; an even count keeps two threads equally busy.</summary>
    internal static int SplitKParts(int m, int n, int k, bool hasValues)
    {
        if (!hasValues || (long)k < 8L * Math.Max(m, n) || (long)m * n * k < ParallelThreshold || IsDeep(m, k)) return 1;
        return k >= 2 * KC * 4 ? 4 : k >= 2 * KC * 2 ? 2 : 1;
    }

    /// <summary>Products at most this wide with a transposed B (x·Wᵀ for a layer with few outputs) run as row dot products.</summary>
    private const int NarrowN = 16;

    /// <summary>Whether a product takes the deep blocking (DeepKC, DeepMC): at least 4·MC rows (as for sharing it between
    /// threads; the training batch's products stay as they are) and more than KC steps of k. It depends on m and k
    /// alone, which every packed operand knows when it is made (a prepacked B, which does not know m, makes the deep
    /// layout on first use), and not on the thread count, so the sums are the same on one thread as on two.</summary>
    internal static bool IsDeep(int m, int k) => m >= 4 * MC && k > KC;

    /// <summary>Equal k-blocks of at most KC (DeepKC for the deep blocking, <see cref="IsDeep"/>): k = 784 runs as
    /// 4 × 196 rather than 3 × 256 + 16, whose last sliver would reload and store the whole of C for 16 multiply-adds.</summary>
    internal static int KStep(int k, bool deep = false)
    {
        int most = deep ? DeepKC : KC, kBlocks = Math.Max(1, (k + most - 1) / most);   // k = 0: one empty block
        return (k + kBlocks - 1) / kBlocks;
    }

    private static int PanelCount(int n) => (n + NR - 1) / NR;

    private static int PaddedRows(int m) => (m + MR - 1) / MR * MR;

    /// <summary>The width of B's packed panels (NR).</summary>
    internal static int PanelWidth => NR;

    /// <summary>Whether products read a <see cref="PackedB"/>'s panels (the packed kernels run on this machine); otherwise
    /// only its values are used.</summary>
    internal static bool PacksB => s_avx256;

    /// <summary>The first 64-byte boundary at or after <paramref name="p"/>: where a packed buffer's panels start, so that
    /// no Vector512 load of a panel straddles two cache lines.</summary>
    internal static float* Align64(float* p) => (float*)(((nuint)p + 63) & ~(nuint)63);

    /// <summary>The index in a pinned packed buffer where its panels start (for tests and tools that read it as an array).</summary>
    internal static int PanelStart(float[] pinned)
    {
        fixed (float* p = pinned) return (int)(Align64(p) - p);
    }
}
