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

    /// <summary>The maximum over <paramref name="axis"/> and, for each, the index along the axis where it occurs (the first on ties).</summary>
    /// <returns>Values with the axis dropped (or kept with size 1) and the arg-max indices in the same row-major order.</returns>
    public static (Tensor Values, int[] Indices) Max(this Tensor x, int axis, bool keepDim = false)
    {
        int a = Shapes.NormalizeAxis(axis, x.Rank, "Max");
        (int outer, int length, int inner) = Split(x.Dims, a);
        if (length == 0)
            throw new ArgumentException($"Max: axis {axis} of shape {Shapes.Format(x.Dims)} is empty.", nameof(axis));
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
                for (int l = 1; l < length; l++)
                {
                    float v = src[baseIndex + l * inner];
                    if (v > bestValue || (float.IsNaN(v) && !float.IsNaN(bestValue))) { bestValue = v; best = l; }
                }
                values[o * inner + i] = bestValue;
                indices[o * inner + i] = best;
            }
        }
        Autograd.Record(y, "max", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            Span<float> dx = Autograd.GradTarget(x).ForAdding();
            ReadOnlySpan<float> g = dy.Values;
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                    dx[o * length * inner + indices[o * inner + i] * inner + i] += g[o * inner + i];
        });
        return (y, indices);
    }

    /// <summary>The index of the maximum along <paramref name="axis"/> (no gradient), e.g. predicted classes of logits (N, K).</summary>
    public static int[] ArgMax(this Tensor x, int axis = -1)
    {
        using (Autograd.NoGrad()) return x.Max(axis).Indices;
    }

    /// <summary>Views a shape as (outer, shape[axis], inner).</summary>
    internal static (int Outer, int Length, int Inner) Split(int[] shape, int axis)
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
