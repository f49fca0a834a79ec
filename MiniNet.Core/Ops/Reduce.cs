using System.Numerics.Tensors;
using MiniNet.Kernels;

namespace MiniNet;

public static partial class Ops
{
    /// <summary>The sum of all elements, as a rank-0 tensor.</summary>
    public static Tensor Sum(this Tensor x)
    {
        Tensor y = Tensor.Allocate();   // an op output like any other: released with its TensorScope
        y.Values[0] = TensorPrimitives.Sum(x.Values);
        return Autograd.Record(y, "sum", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            Span<float> dx = Autograd.GradTarget(x).ForAdding();
            TensorPrimitives.Add(dx, dy.Values[0], dx);
        });
    }

    /// <summary>Sums over one axis (negative counts from the end).</summary>
    public static Tensor Sum(this Tensor x, int axis, bool keepDim = false) => x.Sum([axis], keepDim);

    /// <summary>Sums over the given axes; the result drops them, or keeps them with size 1 when <paramref name="keepDim"/>.</summary>
    /// <exception cref="ArgumentException">An axis is out of range or repeated.</exception>
    public static Tensor Sum(this Tensor x, int[] axes, bool keepDim = false)
    {
        bool[] reduced = ReducedAxes(x, axes, "Sum");
        int[] kept = new int[x.Rank];
        var dropped = new List<int>();
        for (int d = 0; d < x.Rank; d++)
        {
            kept[d] = reduced[d] ? 1 : x.Dims[d];
            if (!reduced[d]) dropped.Add(x.Dims[d]);
        }
        int[] keptStrides = Shapes.BroadcastStrides(kept, x.Dims);
        Tensor y = Tensor.Allocate(keepDim ? kept : dropped.ToArray());
        y.Values.Clear();
        Broadcasting.SumTo(x.Values, x.Dims, keptStrides, y.Values);
        return Autograd.Record(y, "sum", [x], dy =>
        {
            if (x.RequiresGrad) Broadcasting.AddBroadcast(dy.Values, keptStrides, x.Dims, Autograd.GradTarget(x).ForAdding());
        });
    }

    /// <summary>The mean of all elements. Composite: <c>Sum() / Numel</c>.</summary>
    public static Tensor Mean(this Tensor x) => x.Sum().Mul(1f / x.Numel);

    /// <summary>The mean over one axis. Composite.</summary>
    public static Tensor Mean(this Tensor x, int axis, bool keepDim = false) => x.Mean([axis], keepDim);

    /// <summary>The mean over the given axes. Composite: <c>Sum(axes) / count</c>.</summary>
    public static Tensor Mean(this Tensor x, int[] axes, bool keepDim = false) =>
        x.Sum(axes, keepDim).Mul(1f / CountOver(x, axes, "Mean"));

    /// <summary>The variance of all elements: biased (divide by m) or unbiased (divide by m − 1, PyTorch's default).</summary>
    public static Tensor Var(this Tensor x, bool unbiased = true)
    {
        int m = x.Numel;
        Tensor centered = x - x.Mean();
        return centered.Square().Sum().Mul(1f / (unbiased ? m - 1 : m));
    }

    /// <summary>The variance over one axis. Composite.</summary>
    public static Tensor Var(this Tensor x, int axis, bool unbiased = true, bool keepDim = false) => x.Var([axis], unbiased, keepDim);

    /// <summary>The variance over the given axes, Σ(x − mean)² / (m or m − 1). Composite: gradients flow through the mean.</summary>
    public static Tensor Var(this Tensor x, int[] axes, bool unbiased = true, bool keepDim = false)
    {
        int m = CountOver(x, axes, "Var");
        Tensor centered = x - x.Mean(axes, keepDim: true);
        return centered.Square().Sum(axes, keepDim).Mul(1f / (unbiased ? m - 1 : m));
    }

    /// <summary>The maximum over <paramref name="axis"/> and, for each, the index along the axis where it occurs (the
    /// first on ties; NaN counts as the largest). The gradient goes to that index.</summary>
    /// <returns>Values with the axis dropped (or kept with size 1) and the arg-max indices in the same row-major order.</returns>
    public static (Tensor Values, int[] Indices) Max(this Tensor x, int axis, bool keepDim = false) =>
        ExtremumAlong(x, axis, keepDim, larger: true, "Max");

    /// <summary>The minimum over <paramref name="axis"/> and, for each, the index along the axis where it occurs (the
    /// first on ties; NaN counts as the smallest). The gradient goes to that index.</summary>
    public static (Tensor Values, int[] Indices) Min(this Tensor x, int axis, bool keepDim = false) =>
        ExtremumAlong(x, axis, keepDim, larger: false, "Min");

    /// <summary>The largest element as a rank-0 tensor (NaN if any is NaN). As in PyTorch, the gradient is shared
    /// equally among the elements that equal it.</summary>
    public static Tensor Max(this Tensor x) => ExtremumOfAll(x, larger: true, "Max");

    /// <summary>The smallest element as a rank-0 tensor (NaN if any is NaN); the gradient is shared equally among the
    /// elements that equal it.</summary>
    public static Tensor Min(this Tensor x) => ExtremumOfAll(x, larger: false, "Min");

    /// <summary>The index of the maximum along <paramref name="axis"/> (no gradient), e.g. predicted classes of logits (N, K).</summary>
    public static int[] ArgMax(this Tensor x, int axis = -1)
    {
        using (Autograd.NoGrad()) return x.Max(axis).Indices;
    }

    /// <summary>The index of the maximum along <paramref name="axis"/> as an int64 tensor (PyTorch's <c>argmax</c>), to
    /// compare, index or one-hot further; <see cref="ArgMax"/> gives the same indices as an <c>int[]</c>.</summary>
    public static Tensor ArgMaxTensor(this Tensor x, int axis, bool keepDim = false) => ArgExtremum(x, axis, keepDim, larger: true, "ArgMaxTensor");

    /// <summary>The index of the largest element in row-major order as a rank-0 int64 tensor (PyTorch's <c>argmax()</c>
    /// without a dimension: the tensor is flattened first).</summary>
    public static Tensor ArgMaxTensor(this Tensor x) => ArgExtremum(Flat(x), 0, false, larger: true, "ArgMaxTensor");

    /// <summary>The index of the minimum along <paramref name="axis"/> as an int64 tensor (PyTorch's <c>argmin</c>).</summary>
    public static Tensor ArgMinTensor(this Tensor x, int axis, bool keepDim = false) => ArgExtremum(x, axis, keepDim, larger: false, "ArgMinTensor");

    /// <summary>The index of the smallest element in row-major order as a rank-0 int64 tensor (PyTorch's <c>argmin()</c>).</summary>
    public static Tensor ArgMinTensor(this Tensor x) => ArgExtremum(Flat(x), 0, false, larger: false, "ArgMinTensor");

    private static Tensor Flat(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        return x.Reshape(x.Numel);
    }

    /// <summary>The standard deviation of all elements, √Var (unbiased by default, as PyTorch). As in PyTorch, the
    /// gradient is 0 where the standard deviation is 0 (constant values), not the composite's 0·∞.</summary>
    public static Tensor Std(this Tensor x, bool unbiased = true) => RootOfNonNegative(x.Var(unbiased));

    /// <summary>The standard deviation over the given axes, √Var; see <see cref="Std(Tensor, bool)"/>.</summary>
    public static Tensor Std(this Tensor x, int[] axes, bool unbiased = true, bool keepDim = false) => RootOfNonNegative(x.Var(axes, unbiased, keepDim));

    /// <summary>The standard deviation over one axis; see <see cref="Std(Tensor, bool)"/>.</summary>
    public static Tensor Std(this Tensor x, int axis, bool unbiased = true, bool keepDim = false) => RootOfNonNegative(x.Var([axis], unbiased, keepDim));

    /// <summary>√v for a v ≥ 0 that is 0 only where its own gradient is 0 (a variance of equal values): the gradient
    /// dy/(2√v) is taken as 0 there.</summary>
    private static Tensor RootOfNonNegative(Tensor v)
    {
        Tensor y = Tensor.Allocate(v.Dims);
        System.Numerics.Tensors.TensorPrimitives.Sqrt(v.Values, y.Values);
        return Autograd.Record(y, "std", [v], dy =>
        {
            if (!v.RequiresGrad) return;
            ReadOnlySpan<float> roots = y.Values, g = dy.Values;
            Span<float> dv = Autograd.GradTarget(v).ForAdding();
            for (int i = 0; i < dv.Length; i++) if (roots[i] != 0f) dv[i] += g[i] / (2f * roots[i]);
        });
    }

    /// <summary>The p-norm of all elements, (Σ|x|ᵖ)^(1/p) (PyTorch's <c>torch.linalg.vector_norm</c>); p may be
    /// <see cref="float.PositiveInfinity"/> (the largest |x|). As in PyTorch, the gradient sign(x)·|x|ᵖ⁻¹/‖x‖ᵖ⁻¹ is
    /// 0 where the norm is 0 and, for p &lt; 1, at elements that are 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">p is not positive or is NaN.</exception>
    public static Tensor Norm(this Tensor x, float p = 2f) => x.Norm([.. Enumerable.Range(0, x.Rank)], p);

    /// <summary>The p-norm over the given axes; see <see cref="Norm(Tensor, float)"/>.</summary>
    public static Tensor Norm(this Tensor x, int[] axes, float p = 2f, bool keepDim = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!(p > 0f)) throw new ArgumentOutOfRangeException(nameof(p), p, "Norm: p must be positive (or infinity).");
        if (x.Rank == 0) return x.Abs();
        bool[] reduced = ReducedAxes(x, axes, "Norm");
        if (p == 1f) return x.Abs().Sum(axes, keepDim);
        if (float.IsPositiveInfinity(p)) return InfinityNorm(x, reduced, keepDim);
        return PowerNorm(x, reduced, keepDim, p);
    }

    /// <summary>max |x| over the reduced axes. As in PyTorch, the gradient is shared equally among the elements whose |x|
    /// equals the maximum, with x's sign.</summary>
    private static Tensor InfinityNorm(Tensor x, bool[] reduced, bool keepDim)
    {
        int[] kept = new int[x.Rank];
        for (int d = 0; d < x.Rank; d++) kept[d] = reduced[d] ? 1 : x.Dims[d];
        int[] at = Broadcasting.Offsets(Shapes.BroadcastStrides(kept, x.Dims), x.Dims);
        Tensor y = Tensor.Allocate(keepDim ? kept : [.. Enumerable.Range(0, x.Rank).Where(d => !reduced[d]).Select(d => x.Dims[d])]);
        Span<float> norms = y.Values;
        norms.Clear();   // |x| ≥ 0, so 0 is the maximum of nothing
        ReadOnlySpan<float> xs = x.Values;
        for (int i = 0; i < xs.Length; i++)
        {
            float v = Math.Abs(xs[i]);
            if (v > norms[at[i]] || float.IsNaN(v)) norms[at[i]] = v;
        }
        return Autograd.Record(y, "norm", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            ReadOnlySpan<float> values = x.Values, largest = y.Values, g = dy.Values;
            var ties = new int[y.Numel];
            for (int i = 0; i < values.Length; i++) if (Math.Abs(values[i]) == largest[at[i]]) ties[at[i]]++;
            Span<float> dx = Autograd.GradTarget(x).ForAdding();
            for (int i = 0; i < values.Length; i++)
                if (Math.Abs(values[i]) == largest[at[i]]) dx[i] += MathF.Sign(values[i]) * g[at[i]] / ties[at[i]];
        });
    }

    /// <summary>(Σ|x|ᵖ)^(1/p) over the reduced axes, with the gradient dy·sign(x)·|x|ᵖ⁻¹/yᵖ⁻¹ taken as 0 where y = 0 or
    /// x = 0 (the composite's 0·∞); p = 2 takes the plain x·dy/y.</summary>
    private static Tensor PowerNorm(Tensor x, bool[] reduced, bool keepDim, float p)
    {
        int[] kept = new int[x.Rank];
        for (int d = 0; d < x.Rank; d++) kept[d] = reduced[d] ? 1 : x.Dims[d];
        int[] keptStrides = Shapes.BroadcastStrides(kept, x.Dims);
        float[] powers = BufferPool.Rent(x.Numel);
        Span<float> powered = powers.AsSpan(0, x.Numel);
        ReadOnlySpan<float> values = x.Values;
        if (p == 2f) System.Numerics.Tensors.TensorPrimitives.Multiply(values, values, powered);
        else for (int i = 0; i < powered.Length; i++) powered[i] = MathF.Pow(MathF.Abs(values[i]), p);
        Tensor y = Tensor.Allocate(keepDim ? kept : [.. Enumerable.Range(0, x.Rank).Where(d => !reduced[d]).Select(d => x.Dims[d])]);
        y.Values.Clear();
        Broadcasting.SumTo(powered, x.Dims, keptStrides, y.Values);
        BufferPool.Return(powers);
        Span<float> norms = y.Values;
        if (p == 2f) System.Numerics.Tensors.TensorPrimitives.Sqrt(norms, norms);
        else for (int i = 0; i < norms.Length; i++) norms[i] = MathF.Pow(norms[i], 1f / p);
        return Autograd.Record(y, "norm", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            float[] rented = BufferPool.Rent(y.Numel);
            Span<float> scale = rented.AsSpan(0, y.Numel);
            ReadOnlySpan<float> g = dy.Values, result = y.Values;
            for (int i = 0; i < scale.Length; i++)
                scale[i] = result[i] == 0f ? 0f : g[i] / (p == 2f ? result[i] : MathF.Pow(result[i], p - 1f));
            int[] at = Broadcasting.Offsets(keptStrides, x.Dims);
            Span<float> dx = Autograd.GradTarget(x).ForAdding();
            ReadOnlySpan<float> xs = x.Values;
            if (p == 2f)
                for (int i = 0; i < dx.Length; i++) dx[i] += xs[i] * scale[at[i]];
            else
                for (int i = 0; i < dx.Length; i++)
                    if (xs[i] != 0f) dx[i] += MathF.Sign(xs[i]) * MathF.Pow(MathF.Abs(xs[i]), p - 1f) * scale[at[i]];
            BufferPool.Return(rented);
        });
    }

    private static (Tensor Values, int[] Indices) ExtremumAlong(Tensor x, int axis, bool keepDim, bool larger, string op)
    {
        ArgumentNullException.ThrowIfNull(x);
        int a = Shapes.NormalizeAxis(axis, x.Rank, op);
        (int outer, int length, int inner) = AroundAxis(x.Dims, a);
        if (length == 0)
            throw new ArgumentException($"{op}: axis {axis} of shape {Shapes.Format(x.Dims)} is empty.", nameof(axis));
        Tensor y = Tensor.Allocate(ReducedShape(x.Dims, a, keepDim));
        Span<float> values = y.Values;
        var indices = new int[outer * inner];
        ReadOnlySpan<float> src = x.Values;
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int baseIndex = o * length * inner + i, best = 0;
                float bestValue = src[baseIndex];
                for (int l = 1; l < length && !float.IsNaN(bestValue); l++)
                {
                    float v = src[baseIndex + l * inner];
                    if ((larger ? v > bestValue : v < bestValue) || float.IsNaN(v)) { bestValue = v; best = l; }
                }
                values[o * inner + i] = bestValue;
                indices[o * inner + i] = best;
            }
        }
        // A recorded backward reads its own copy of the winners, so a caller changing the returned array cannot redirect it.
        int[] winners = Autograd.Enabled && x.RequiresGrad ? (int[])indices.Clone() : indices;
        Autograd.Record(y, larger ? "max" : "min", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            Span<float> dx = Autograd.GradTarget(x).ForAdding();
            ReadOnlySpan<float> g = dy.Values;
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                    dx[o * length * inner + winners[o * inner + i] * inner + i] += g[o * inner + i];
        });
        return (y, indices);
    }

    private static Tensor ExtremumOfAll(Tensor x, bool larger, string op)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Numel == 0) throw new ArgumentException($"{op}: tensor of shape {Shapes.Format(x.Dims)} has no elements.", nameof(x));
        ReadOnlySpan<float> src = x.Values;
        float best = src[0];
        for (int i = 1; i < src.Length && !float.IsNaN(best); i++)
            if ((larger ? src[i] > best : src[i] < best) || float.IsNaN(src[i])) best = src[i];
        Tensor y = Tensor.Allocate();
        y.Values[0] = best;
        return Autograd.Record(y, larger ? "max" : "min", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            ReadOnlySpan<float> xs = x.Values;
            bool nan = float.IsNaN(best);
            int ties = 0;
            foreach (float v in xs) if (v == best || nan && float.IsNaN(v)) ties++;
            float share = dy.Values[0] / ties;
            Span<float> dx = Autograd.GradTarget(x).ForAdding();
            for (int i = 0; i < xs.Length; i++) if (xs[i] == best || nan && float.IsNaN(xs[i])) dx[i] += share;
        });
    }

    private static Tensor ArgExtremum(Tensor x, int axis, bool keepDim, bool larger, string op)
    {
        ArgumentNullException.ThrowIfNull(x);
        int[] indices;
        using (Autograd.NoGrad()) indices = ExtremumAlong(x, axis, keepDim, larger, op).Indices;
        int a = Shapes.NormalizeAxis(axis, x.Rank, op);
        var values = new long[indices.Length];
        for (int i = 0; i < values.Length; i++) values[i] = indices[i];
        return Tensor.OfInt64(values, ReducedShape(x.Dims, a, keepDim));
    }

    /// <summary>Views a shape as (outer, shape[axis], inner).</summary>
    internal static (int Outer, int Length, int Inner) AroundAxis(int[] shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        return (outer, shape[axis], inner);
    }

    private static int[] ReducedShape(int[] shape, int axis, bool keepDim)
    {
        if (keepDim)
        {
            int[] kept = (int[])shape.Clone();
            kept[axis] = 1;
            return kept;
        }
        return [.. shape[..axis], .. shape[(axis + 1)..]];
    }

    private static bool[] ReducedAxes(Tensor x, int[] axes, string op)
    {
        ArgumentNullException.ThrowIfNull(axes);
        var reduced = new bool[x.Rank];
        foreach (int axis in axes)
        {
            int a = Shapes.NormalizeAxis(axis, x.Rank, op);
            if (reduced[a]) throw new ArgumentException($"{op}: axis {axis} appears twice in ({string.Join(", ", axes)}).", nameof(axes));
            reduced[a] = true;
        }
        return reduced;
    }

    private static int CountOver(Tensor x, int[] axes, string op)
    {
        bool[] reduced = ReducedAxes(x, axes, op);
        int count = 1;
        for (int d = 0; d < x.Rank; d++) if (reduced[d]) count *= x.Dims[d];
        return count;
    }
}
