using MiniNet.Kernels;

namespace MiniNet;

// Comparisons give bool masks (no gradient); Maximum and Minimum pick between two float tensors with gradients.
// Types follow PyTorch's promotion: two int64 tensors compare as integers; otherwise int64 and bool operands are
// converted to float32 first. A scalar is compared in the tensor's type (as float32 against a float32 tensor).
public static partial class Ops
{
    /// <summary>a &gt; b elementwise, with broadcasting, as a bool mask (false where either is NaN).</summary>
    public static Tensor Gt(this Tensor a, Tensor b) => Compare<GreaterFn>(a, b, "Gt");
    /// <summary>a ≥ b elementwise, with broadcasting, as a bool mask.</summary>
    public static Tensor Ge(this Tensor a, Tensor b) => Compare<GreaterOrEqualFn>(a, b, "Ge");
    /// <summary>a &lt; b elementwise, with broadcasting, as a bool mask.</summary>
    public static Tensor Lt(this Tensor a, Tensor b) => Compare<GreaterFn>(b, a, "Lt", swapped: true);
    /// <summary>a ≤ b elementwise, with broadcasting, as a bool mask.</summary>
    public static Tensor Le(this Tensor a, Tensor b) => Compare<GreaterOrEqualFn>(b, a, "Le", swapped: true);
    /// <summary>a = b elementwise, with broadcasting, as a bool mask (NaN equals nothing).</summary>
    public static Tensor Eq(this Tensor a, Tensor b) => Compare<EqualFn>(a, b, "Eq");
    /// <summary>a ≠ b elementwise, with broadcasting, as a bool mask (NaN differs from everything).</summary>
    public static Tensor Ne(this Tensor a, Tensor b) => Compare<NotEqualFn>(a, b, "Ne");

    /// <summary>x &gt; value elementwise, as a bool mask.</summary>
    public static Tensor Gt(this Tensor x, double value) => x.Gt(ScalarLike(x, value));
    /// <summary>x ≥ value elementwise, as a bool mask.</summary>
    public static Tensor Ge(this Tensor x, double value) => x.Ge(ScalarLike(x, value));
    /// <summary>x &lt; value elementwise, as a bool mask.</summary>
    public static Tensor Lt(this Tensor x, double value) => x.Lt(ScalarLike(x, value));
    /// <summary>x ≤ value elementwise, as a bool mask.</summary>
    public static Tensor Le(this Tensor x, double value) => x.Le(ScalarLike(x, value));
    /// <summary>x = value elementwise, as a bool mask.</summary>
    public static Tensor Eq(this Tensor x, double value) => x.Eq(ScalarLike(x, value));
    /// <summary>x ≠ value elementwise, as a bool mask.</summary>
    public static Tensor Ne(this Tensor x, double value) => x.Ne(ScalarLike(x, value));

    /// <summary>The elementwise negation of a bool mask.</summary>
    /// <exception cref="ArgumentException">The tensor is not bool.</exception>
    public static Tensor LogicalNot(this Tensor mask)
    {
        ReadOnlySpan<bool> m = BoolOperand(mask, "LogicalNot", nameof(mask));
        var result = new bool[m.Length];
        for (int i = 0; i < result.Length; i++) result[i] = !m[i];
        return Tensor.OfBool(result, (int[])mask.Dims.Clone());
    }

    /// <summary>a ∧ b for bool masks, with broadcasting.</summary>
    public static Tensor LogicalAnd(this Tensor a, Tensor b) => Logical(a, b, "LogicalAnd", and: true);

    /// <summary>a ∨ b for bool masks, with broadcasting.</summary>
    public static Tensor LogicalOr(this Tensor a, Tensor b) => Logical(a, b, "LogicalOr", and: false);

    /// <summary>The number of true entries of a bool mask (or of non-zero entries of any tensor), e.g. correct
    /// predictions: <c>predicted.Eq(labels).CountNonzero()</c>.</summary>
    public static long CountNonzero(this Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        // Counted in place (float storage through the internal view, so counting does not expose a leased array).
        long count = 0;
        switch (x.DType)
        {
            case DType.Bool: foreach (bool b in x.BoolData) if (b) count++; break;
            case DType.Int64: foreach (long v in x.Int64Data) if (v != 0) count++; break;
            default: foreach (float v in x.Values) if (v != 0f) count++; break;   // NaN is nonzero, as in PyTorch
        }
        return count;
    }

    /// <summary>The larger of a and b elementwise, with broadcasting (PyTorch's <c>torch.maximum</c>: NaN wins). The
    /// gradient goes to the larger one, half to each on a tie.</summary>
    public static Tensor Maximum(this Tensor a, Tensor b) => Extremum(a, b, "Maximum", larger: true);

    /// <summary>The smaller of a and b elementwise, with broadcasting (PyTorch's <c>torch.minimum</c>: NaN wins). The
    /// gradient goes to the smaller one, half to each on a tie.</summary>
    public static Tensor Minimum(this Tensor a, Tensor b) => Extremum(a, b, "Minimum", larger: false);

    private interface ICompare
    {
        static abstract bool Test(float a, float b);
        static abstract bool Test(long a, long b);
    }

    private readonly struct GreaterFn : ICompare
    {
        public static bool Test(float a, float b) => a > b;
        public static bool Test(long a, long b) => a > b;
    }

    private readonly struct GreaterOrEqualFn : ICompare
    {
        public static bool Test(float a, float b) => a >= b;
        public static bool Test(long a, long b) => a >= b;
    }

    private readonly struct EqualFn : ICompare
    {
        public static bool Test(float a, float b) => a == b;
        public static bool Test(long a, long b) => a == b;
    }

    private readonly struct NotEqualFn : ICompare
    {
        public static bool Test(float a, float b) => a != b;
        public static bool Test(long a, long b) => a != b;
    }

    /// <summary>TOp over the broadcast shape; <paramref name="swapped"/> says the operands came in reversed (Lt as Gt)
    /// so that messages name them as the caller did.</summary>
    private static Tensor Compare<TOp>(Tensor a, Tensor b, string op, bool swapped = false) where TOp : ICompare
    {
        ArgumentNullException.ThrowIfNull(a, swapped ? "b" : "a");
        ArgumentNullException.ThrowIfNull(b, swapped ? "a" : "b");
        int[] shape = swapped ? Shapes.Broadcast(b.Dims, a.Dims, op) : Shapes.Broadcast(a.Dims, b.Dims, op);
        int[] aAt = Broadcasting.Offsets(Shapes.BroadcastStrides(a.Dims, shape), shape);
        int[] bAt = Broadcasting.Offsets(Shapes.BroadcastStrides(b.Dims, shape), shape);
        var result = new bool[aAt.Length];
        if (a.DType == DType.Int64 && b.DType == DType.Int64)
        {
            ReadOnlySpan<long> x = a.Int64Data, y = b.Int64Data;
            for (int i = 0; i < result.Length; i++) result[i] = TOp.Test(x[aAt[i]], y[bAt[i]]);
        }
        else
        {
            Tensor fa = a.DType == DType.Float32 ? a : a.To(DType.Float32), fb = b.DType == DType.Float32 ? b : b.To(DType.Float32);
            ReadOnlySpan<float> x = fa.Values, y = fb.Values;
            for (int i = 0; i < result.Length; i++) result[i] = TOp.Test(x[aAt[i]], y[bAt[i]]);
            GC.KeepAlive(fa);
            GC.KeepAlive(fb);
        }
        return Tensor.OfBool(result, shape);
    }

    /// <summary>A rank-0 tensor of <paramref name="value"/> in the type x compares in: int64 when x is int64 and the
    /// value integral, float32 otherwise.</summary>
    private static Tensor ScalarLike(Tensor x, double value)
    {
        ArgumentNullException.ThrowIfNull(x);
        bool integral = x.DType == DType.Int64 && Math.Floor(value) == value && Math.Abs(value) <= 9.2e18;
        return integral ? Tensor.OfInt64([(long)value], []) : Tensor.Scalar((float)value);
    }

    private static ReadOnlySpan<bool> BoolOperand(Tensor mask, string op, string paramName)
    {
        ArgumentNullException.ThrowIfNull(mask, paramName);
        if (mask.DType != DType.Bool)
            throw new ArgumentException($"{op}: the tensor holds {mask.DType} values; it must be a bool mask.", paramName);
        return mask.BoolData;
    }

    private static Tensor Logical(Tensor a, Tensor b, string op, bool and)
    {
        ReadOnlySpan<bool> x = BoolOperand(a, op, nameof(a)), y = BoolOperand(b, op, nameof(b));
        int[] shape = Shapes.Broadcast(a.Dims, b.Dims, op);
        int[] aAt = Broadcasting.Offsets(Shapes.BroadcastStrides(a.Dims, shape), shape);
        int[] bAt = Broadcasting.Offsets(Shapes.BroadcastStrides(b.Dims, shape), shape);
        var result = new bool[aAt.Length];
        for (int i = 0; i < result.Length; i++) result[i] = and ? x[aAt[i]] && y[bAt[i]] : x[aAt[i]] || y[bAt[i]];
        return Tensor.OfBool(result, shape);
    }

    private static Tensor Extremum(Tensor a, Tensor b, string op, bool larger)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int[] shape = Shapes.Broadcast(a.Dims, b.Dims, op);
        int[] aAt = Broadcasting.Offsets(Shapes.BroadcastStrides(a.Dims, shape), shape);
        int[] bAt = Broadcasting.Offsets(Shapes.BroadcastStrides(b.Dims, shape), shape);
        Tensor y = Tensor.Allocate(shape);
        ReadOnlySpan<float> x1 = a.Values, x2 = b.Values;
        Span<float> ys = y.Values;
        // The share of the gradient a receives: 1 where it wins (or is NaN), ½ on a tie, 0 where b wins.
        var share = new float[ys.Length];
        for (int i = 0; i < ys.Length; i++)
        {
            float u = x1[aAt[i]], v = x2[bAt[i]];
            bool aWins = float.IsNaN(u) || (!float.IsNaN(v) && (larger ? u > v : u < v));
            bool tie = u == v;
            ys[i] = aWins || tie ? u : v;
            share[i] = tie ? 0.5f : aWins ? 1f : 0f;
        }
        return Autograd.Record(y, larger ? "maximum" : "minimum", [a, b], dy =>
        {
            float[] rented = BufferPool.Rent(dy.Numel);
            Span<float> part = rented.AsSpan(0, dy.Numel);
            ReadOnlySpan<float> g = dy.Values;
            if (a.RequiresGrad)
            {
                for (int i = 0; i < part.Length; i++) part[i] = g[i] * share[i];
                ReduceInto(a, part, shape);
            }
            if (b.RequiresGrad)
            {
                for (int i = 0; i < part.Length; i++) part[i] = g[i] * (1f - share[i]);
                ReduceInto(b, part, shape);
            }
            BufferPool.Return(rented);
        });
    }
}
