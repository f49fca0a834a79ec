using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MiniNet.Kernels;

// The epilogue: a product that feeds a per-column affine map and an activation (a linear layer followed by an
// inference-mode BatchNorm and ReLU, say) has them applied to each tile of C right after its last k-block, while the
// tile is still in L1, instead of in separate passes over the whole output: c = act(c·scale[j] + shift[j]), or per
// row, c = act(c·scale[i] + shift[i]) (a convolution followed by a BatchNorm2d: its output channels are the rows). A
// full 8×32 tile applies it in the kernel as its sums are stored, still in registers (Gemm.MicroKernels.cs, the same
// operations, so the same values); edge tiles and the Vector256 kernel apply it to the stored tile.
internal static unsafe partial class Gemm
{
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
