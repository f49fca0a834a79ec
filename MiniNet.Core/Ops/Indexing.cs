using MiniNet.Kernels;

namespace MiniNet;

// Picking elements by index or mask. Index tensors are int64 (Tensor.FromInt64Array, OneHot, ArgMaxTensor); masks are
// bool (comparisons). Values may be of any DType; gradients flow to float32 values, summed where an index repeats.
public static partial class Ops
{
    /// <summary>The entries <paramref name="index"/> picks along <paramref name="axis"/> (PyTorch's <c>index_select</c>):
    /// the result has the input's shape with that axis's size replaced by the index's length.</summary>
    /// <param name="x">The values, of any type.</param>
    /// <param name="axis">The axis to pick along.</param>
    /// <param name="index">A one-dimensional int64 tensor of positions in [0, size of the axis); repeats are allowed.</param>
    /// <exception cref="ArgumentException">The index is not a one-dimensional int64 tensor.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the axis (named, with its position).</exception>
    public static Tensor IndexSelect(this Tensor x, int axis, Tensor index)
    {
        ArgumentNullException.ThrowIfNull(x);
        long[] positions = IndexValues(index, "IndexSelect", nameof(index), maxRank: 1);
        return SelectAlong(x, Shapes.NormalizeAxis(axis, x.Rank, "IndexSelect"), positions, allowNegative: false, "IndexSelect", nameof(index));
    }

    /// <summary>Advanced indexing along the first axis, <c>x[index]</c> in PyTorch: an int64 index of any shape picks
    /// whole rows (negative positions count from the end), giving shape index.shape + x.shape[1..]; a bool mask
    /// shaped like x's leading dimensions picks the entries where it is true, giving (count, rest of x's shape).</summary>
    /// <exception cref="ArgumentException">The index is neither int64 nor bool, or a mask's shape does not lead x's.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the first axis.</exception>
    public static Tensor Index(this Tensor x, Tensor index)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(index);
        if (x.Rank == 0) throw new ArgumentException("Index: a rank-0 tensor has no axis to index.", nameof(x));
        if (index.DType == DType.Bool) return MaskedSelect(x, index);
        long[] positions = IndexValues(index, "Index", nameof(index), maxRank: int.MaxValue);
        Tensor rows = SelectAlong(x, 0, positions, allowNegative: true, "Index", nameof(index));
        return rows.Reshape([.. index.Dims, .. x.Dims[1..]]);
    }

    /// <summary>Values picked per position along <paramref name="axis"/> (PyTorch's <c>gather</c>): for axis 1 of a 2-D
    /// input, y[i, j] = x[i, index[i, j]], e.g. each sample's value at its label with
    /// <c>logits.Gather(1, labels.Unsqueeze(1))</c>. The result has the index's shape; the index has the input's rank
    /// and is no larger off the axis.</summary>
    /// <exception cref="ArgumentException">The index is not int64, has another rank, or is larger off the axis.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the axis.</exception>
    public static Tensor Gather(this Tensor x, int axis, Tensor index)
    {
        ArgumentNullException.ThrowIfNull(x);
        long[] positions = IndexValues(index, "Gather", nameof(index), maxRank: int.MaxValue);
        if (x.Rank == 0) throw new ArgumentException("Gather: a rank-0 tensor has no axis to gather along.", nameof(x));
        int a = Shapes.NormalizeAxis(axis, x.Rank, "Gather");
        if (index.Rank != x.Rank)
            throw new ArgumentException($"Gather: index of shape {Shapes.Format(index.Dims)} must have the rank of the input {Shapes.Format(x.Dims)}.", nameof(index));
        for (int d = 0; d < x.Rank; d++)
            if (d != a && index.Dims[d] > x.Dims[d])
                throw new ArgumentException(
                    $"Gather: index of shape {Shapes.Format(index.Dims)} is larger than the input {Shapes.Format(x.Dims)} in dimension {d}.", nameof(index));
        int[] sources = GatherOffsets(x.Dims, index.Dims, a, positions);
        Tensor y = Tensor.AllocateOf(x.DType, (int[])index.Dims.Clone());
        switch (x.DType)
        {
            case DType.Float32: Pick(x.Storage, sources, y.Storage); break;
            case DType.Int64: Pick((long[])x.Elements, sources, (long[])y.Elements); break;
            default: Pick((bool[])x.Elements, sources, (bool[])y.Elements); break;
        }
        if (x.DType != DType.Float32) return y;
        return Autograd.Record(y, "gather", [x], dy =>
        {
            if (x.RequiresGrad) ScatterAdd(dy.Values, sources, Autograd.GradTarget(x).ForAdding());
        });
    }

    /// <summary>Elementwise choice, <c>condition ? a : b</c> (PyTorch's <c>torch.where</c>), broadcasting all three; the
    /// gradient goes to a where the condition holds and to b elsewhere.</summary>
    /// <exception cref="ArgumentException">The condition is not bool, a and b differ in type, or the shapes cannot be broadcast.</exception>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (condition.DType != DType.Bool)
            throw new ArgumentException($"Where: the condition holds {condition.DType} values; it must be a bool mask (from Gt, Eq, …).", nameof(condition));
        if (a.DType != b.DType)
            throw new ArgumentException($"Where: a holds {a.DType} values and b {b.DType}; convert one with To().", nameof(b));
        int[] shape = Shapes.Broadcast(condition.Dims, Shapes.Broadcast(a.Dims, b.Dims, "Where"), "Where");
        bool[] mask = Expanded(condition.BoolData.ToArray(), condition.Dims, shape);
        int[] aAt = Broadcasting.Offsets(Shapes.BroadcastStrides(a.Dims, shape), shape);
        int[] bAt = Broadcasting.Offsets(Shapes.BroadcastStrides(b.Dims, shape), shape);
        Tensor y = Tensor.AllocateOf(a.DType, shape);
        switch (a.DType)
        {
            case DType.Float32: Choose(mask, a.Storage, aAt, b.Storage, bAt, y.Storage); break;
            case DType.Int64: Choose(mask, (long[])a.Elements, aAt, (long[])b.Elements, bAt, (long[])y.Elements); break;
            default: Choose(mask, (bool[])a.Elements, aAt, (bool[])b.Elements, bAt, (bool[])y.Elements); break;
        }
        if (a.DType != DType.Float32) return y;
        return Autograd.Record(y, "where", [a, b], dy =>
        {
            float[] rented = BufferPool.Rent(dy.Numel);
            Span<float> part = rented.AsSpan(0, dy.Numel);
            ReadOnlySpan<float> g = dy.Values;
            if (a.RequiresGrad)
            {
                for (int i = 0; i < part.Length; i++) part[i] = mask[i] ? g[i] : 0f;
                ReduceInto(a, part, shape);
            }
            if (b.RequiresGrad)
            {
                for (int i = 0; i < part.Length; i++) part[i] = mask[i] ? 0f : g[i];
                ReduceInto(b, part, shape);
            }
            BufferPool.Return(rented);
        });
    }

    /// <summary><c>condition ? a : b</c> with a scalar for b. Composite.</summary>
    public static Tensor Where(Tensor condition, Tensor a, float b) => Where(condition, a, Tensor.Scalar(b));

    /// <summary><c>condition ? a : b</c> with a scalar for a. Composite.</summary>
    public static Tensor Where(Tensor condition, float a, Tensor b) => Where(condition, Tensor.Scalar(a), b);

    /// <summary><paramref name="value"/> where the bool <paramref name="mask"/> holds, x elsewhere (PyTorch's
    /// <c>masked_fill</c>); the mask broadcasts to x's shape. Composite: <see cref="Where(Tensor, float, Tensor)"/>.</summary>
    public static Tensor MaskedFill(this Tensor x, Tensor mask, float value) => Where(mask, value, x);

    /// <summary>One-hot rows of int64 labels (PyTorch's <c>F.one_hot</c>): shape labels.shape + (classes), int64 0s and
    /// 1s (convert with <c>To(DType.Float32)</c> for arithmetic). Classes −1 means the largest label + 1.</summary>
    /// <exception cref="ArgumentException">The labels are not int64.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is negative or not below the number of classes (named, with its position).</exception>
    public static Tensor OneHot(this Tensor labels, int classes = -1)
    {
        long[] values = IndexValues(labels, "OneHot", nameof(labels), maxRank: int.MaxValue);
        if (classes < -1 || classes == 0)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "OneHot: classes must be positive, or -1 to count them from the labels.");
        if (classes == -1 && values.Length == 0)
            throw new ArgumentException("OneHot: cannot infer the number of classes from no labels; pass classes.", nameof(labels));
        int k = classes == -1 ? (int)Math.Clamp(values.Max() + 1, 1, int.MaxValue) : classes;
        var result = new long[checked(values.Length * k)];
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] < 0 || values[i] >= k)
                throw new ArgumentOutOfRangeException(nameof(labels), values[i], $"OneHot: label {values[i]} at position {i} is outside 0..{k - 1}.");
            result[i * k + values[i]] = 1;
        }
        return Tensor.OfInt64(result, [.. labels.Dims, k]);
    }

    /// <summary>x[mask]: the entries where the mask (x's leading dimensions) holds, in row-major order. Composite:
    /// Reshape then <see cref="SelectAlong"/>.</summary>
    private static Tensor MaskedSelect(Tensor x, Tensor mask)
    {
        bool leads = mask.Rank <= x.Rank;
        for (int d = 0; leads && d < mask.Rank; d++) leads = mask.Dims[d] == x.Dims[d];
        if (!leads)
            throw new ArgumentException($"Index: mask of shape {Shapes.Format(mask.Dims)} does not match the leading dimensions of {Shapes.Format(x.Dims)}.", "index");
        ReadOnlySpan<bool> m = mask.BoolData;
        var positions = new List<long>();
        for (int i = 0; i < m.Length; i++) if (m[i]) positions.Add(i);
        Tensor rows = x.Reshape([mask.Numel, .. x.Dims[mask.Rank..]]);
        return SelectAlong(rows, 0, [.. positions], allowNegative: false, "Index", "index");
    }

    /// <summary>Copies the blocks at <paramref name="positions"/> along axis <paramref name="a"/>; the gradient is
    /// scatter-added back.</summary>
    private static Tensor SelectAlong(Tensor x, int a, long[] positions, bool allowNegative, string op, string paramName)
    {
        (int outer, int size, int inner) = AroundAxis(x.Dims, a);
        var rows = new int[positions.Length];
        for (int j = 0; j < positions.Length; j++)
        {
            long p = positions[j] < 0 && allowNegative ? positions[j] + size : positions[j];
            if (p < 0 || p >= size)
                throw new ArgumentOutOfRangeException(paramName, positions[j],
                    $"{op}: index {positions[j]} at position {j} is out of range for axis {a} of shape {Shapes.Format(x.Dims)} (size {size}).");
            rows[j] = (int)p;
        }
        int[] shape = (int[])x.Dims.Clone();
        shape[a] = rows.Length;
        Shapes.Validate(shape, op);
        Tensor y = Tensor.AllocateOf(x.DType, shape);
        Array source = x.Elements, destination = y.Elements;
        if (inner > 0)
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < rows.Length; j++)
                    Array.Copy(source, (o * size + rows[j]) * inner, destination, (o * rows.Length + j) * inner, inner);
        if (x.DType != DType.Float32) return y;
        return Autograd.Record(y, op == "Index" ? "index" : "index_select", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            Span<float> dx = Autograd.GradTarget(x).ForAdding();
            ReadOnlySpan<float> g = dy.Values;
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < rows.Length; j++)
                {
                    Span<float> into = dx.Slice((o * size + rows[j]) * inner, inner);
                    System.Numerics.Tensors.TensorPrimitives.Add(into, g.Slice((o * rows.Length + j) * inner, inner), into);
                }
        });
    }

    /// <summary>The positions an index tensor holds, after checking it is int64 of at most <paramref name="maxRank"/>.</summary>
    private static long[] IndexValues(Tensor index, string op, string paramName, int maxRank)
    {
        ArgumentNullException.ThrowIfNull(index, paramName);
        if (index.DType != DType.Int64)
            throw new ArgumentException(
                $"{op}: the index holds {index.DType} values; it must be int64 (Tensor.FromInt64Array, or To(DType.Int64)).", paramName);
        if (index.Rank > maxRank)
            throw new ArgumentException($"{op}: the index has shape {Shapes.Format(index.Dims)}; it must be one-dimensional.", paramName);
        return index.Int64Data.ToArray();
    }

    /// <summary>For each element of an index of shape <paramref name="indexShape"/>, the offset in an input of shape
    /// <paramref name="inputShape"/> it picks: its own coordinates, with the one along <paramref name="axis"/> replaced by
    /// the index value.</summary>
    private static int[] GatherOffsets(int[] inputShape, int[] indexShape, int axis, long[] positions)
    {
        int[] inputStrides = Shapes.Strides(inputShape);
        int[] offsets = Broadcasting.Offsets(inputStrides, indexShape);   // the coordinates' offset, axis included
        int[] indexStrides = Shapes.Strides(indexShape);
        int size = inputShape[axis];
        for (int i = 0; i < offsets.Length; i++)
        {
            long p = positions[i];
            if (p < 0 || p >= size)
                throw new ArgumentOutOfRangeException("index", p,
                    $"Gather: index {p} at position {i} is out of range for axis {axis} of shape {Shapes.Format(inputShape)} (size {size}).");
            int along = i / indexStrides[axis] % indexShape[axis];
            offsets[i] += (int)(p - along) * inputStrides[axis];
        }
        return offsets;
    }

    private static void Pick<T>(T[] source, int[] offsets, T[] destination)
    {
        for (int i = 0; i < offsets.Length; i++) destination[i] = source[offsets[i]];
    }

    private static void ScatterAdd(ReadOnlySpan<float> gradient, int[] offsets, Span<float> destination)
    {
        for (int i = 0; i < offsets.Length; i++) destination[offsets[i]] += gradient[i];
    }

    private static void Choose<T>(bool[] mask, T[] a, int[] aAt, T[] b, int[] bAt, T[] destination)
    {
        for (int i = 0; i < mask.Length; i++) destination[i] = mask[i] ? a[aAt[i]] : b[bAt[i]];
    }

    /// <summary>A bool array of one shape broadcast to another.</summary>
    private static bool[] Expanded(bool[] values, int[] shape, int[] outShape)
    {
        if (Shapes.Equal(shape, outShape)) return values;
        int[] at = Broadcasting.Offsets(Shapes.BroadcastStrides(shape, outShape), outShape);
        var result = new bool[at.Length];
        for (int i = 0; i < at.Length; i++) result[i] = values[at[i]];
        return result;
    }
}
