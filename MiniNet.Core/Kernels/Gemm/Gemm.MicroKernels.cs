using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MiniNet.Kernels;

// The micro-kernels keep an MR × NR tile of C in registers and perform kc rank-1 updates with fused multiply-adds,
// reading one row of a packed A panel (MR values, broadcast) and one row of a packed B panel (NR values) per step:
// Vector512 8×32 with 16 accumulators, Vector256 6×16 with 12. Edge tiles are computed whole into a stack tile and the
// valid part written back.
internal static unsafe partial class Gemm
{
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
    /// <remarks>The kernels are never inlined (a test holds the attribute on each). With profile-guided optimisation the
    /// JIT can inline a whole product, through the parallel region's delegate, into the worker loop, where the kernel's
    /// accumulators no longer all fit in registers and it runs at about half speed. A call is cheap next to a kernel's
    /// multiply-adds: kc·MR·NR/16 vector operations, 144 even at k = 9.</remarks>
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
