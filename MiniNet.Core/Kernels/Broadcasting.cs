using System.Numerics.Tensors;

namespace MiniNet.Kernels;

// NumPy broadcasting by rows. Every operand is described by strides in the output's coordinates (0 where it
// broadcasts). Dimensions are first coalesced: size-1 dimensions vanish and neighbours that are contiguous for
// every operand merge, so (N, C) + (C) becomes N rows of C and same-shape operands become one long row. The last
// coalesced dimension is the row; each operand is then either a whole row (stride 1) or one value (stride 0), and
// each row goes to a TensorPrimitives call. Reference twin: Kernels/Reference/BroadcastingReference.cs.

/// <summary>One binary op as row kernels: row ∘ row, row ∘ scalar, scalar ∘ row.</summary>
internal interface IRowOp
{
    static abstract void Rows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> destination);
    static abstract void RowScalar(ReadOnlySpan<float> a, float b, Span<float> destination);
    static abstract void ScalarRow(float a, ReadOnlySpan<float> b, Span<float> destination);
}

internal readonly struct AddRows : IRowOp
{
    public static void Rows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Add(a, b, d);
    public static void RowScalar(ReadOnlySpan<float> a, float b, Span<float> d) => TensorPrimitives.Add(a, b, d);
    public static void ScalarRow(float a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Add(b, a, d);
}

internal readonly struct SubtractRows : IRowOp
{
    public static void Rows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Subtract(a, b, d);
    public static void RowScalar(ReadOnlySpan<float> a, float b, Span<float> d) => TensorPrimitives.Subtract(a, b, d);
    public static void ScalarRow(float a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Subtract(a, b, d);
}

internal readonly struct MultiplyRows : IRowOp
{
    public static void Rows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Multiply(a, b, d);
    public static void RowScalar(ReadOnlySpan<float> a, float b, Span<float> d) => TensorPrimitives.Multiply(a, b, d);
    public static void ScalarRow(float a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Multiply(b, a, d);
}

internal readonly struct DivideRows : IRowOp
{
    public static void Rows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Divide(a, b, d);
    public static void RowScalar(ReadOnlySpan<float> a, float b, Span<float> d) => TensorPrimitives.Divide(a, b, d);
    public static void ScalarRow(float a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Divide(a, b, d);
}

internal static class Broadcasting
{
    /// <summary>destination = a ∘ b, where a and b are read through broadcast strides over <paramref name="outShape"/>.</summary>
    public static void Binary<TOp>(ReadOnlySpan<float> a, int[] aStrides, ReadOnlySpan<float> b, int[] bStrides,
        int[] outShape, Span<float> destination) where TOp : IRowOp
    {
        var plan = new Plan(outShape, [aStrides, bStrides, Shapes.Strides(outShape)]);
        int inner = plan.RowLength;
        // The output row has length > 1 only where a or b does, so at most one operand is a scalar per row.
        bool aRow = plan.RowStride(0) != 0, bRow = plan.RowStride(1) != 0;
        for (int r = 0; r < plan.RowCount; r++, plan.Advance())
        {
            Span<float> d = destination.Slice(plan.Offsets[2], inner);
            if (aRow && bRow) TOp.Rows(a.Slice(plan.Offsets[0], inner), b.Slice(plan.Offsets[1], inner), d);
            else if (aRow) TOp.RowScalar(a.Slice(plan.Offsets[0], inner), b[plan.Offsets[1]], d);
            else TOp.ScalarRow(a[plan.Offsets[0]], b.Slice(plan.Offsets[1], inner), d);
        }
    }

    /// <summary>destination += source summed down to the destination's shape; the destination is read through
    /// broadcast strides over <paramref name="sourceShape"/> (stride 0 along the dimensions that are summed away).</summary>
    public static void SumTo(ReadOnlySpan<float> source, int[] sourceShape, int[] destinationStrides, Span<float> destination)
    {
        var plan = new Plan(sourceShape, [Shapes.Strides(sourceShape), destinationStrides]);
        int inner = plan.RowLength;
        bool dRow = plan.RowStride(1) != 0;
        for (int r = 0; r < plan.RowCount; r++, plan.Advance())
        {
            ReadOnlySpan<float> s = source.Slice(plan.Offsets[0], inner);
            if (dRow)
            {
                Span<float> d = destination.Slice(plan.Offsets[1], inner);
                TensorPrimitives.Add(d, s, d);
            }
            else
            {
                destination[plan.Offsets[1]] += TensorPrimitives.Sum(s);
            }
        }
    }

    /// <summary>destination += source broadcast to <paramref name="outShape"/>; the source is read through broadcast strides.</summary>
    public static void AddBroadcast(ReadOnlySpan<float> source, int[] sourceStrides, int[] outShape, Span<float> destination) =>
        Binary<AddRows>(destination, Shapes.Strides(outShape), source, sourceStrides, outShape, destination);

    /// <summary>For each element of <paramref name="outShape"/> in row-major order, the offset of the operand element it
    /// reads through <paramref name="operandStrides"/> (broadcast strides): for elementwise ops that pick or compare
    /// rather than compute rows (Where, comparisons, Maximum), where one gather of offsets serves every operand type.</summary>
    public static int[] Offsets(int[] operandStrides, int[] outShape)
    {
        var offsets = new int[Shapes.Numel(outShape)];
        if (offsets.Length == 0) return offsets;
        var counter = new int[outShape.Length];
        int offset = 0;
        for (int i = 0; i < offsets.Length; i++)
        {
            offsets[i] = offset;
            for (int d = outShape.Length - 1; d >= 0; d--)
            {
                offset += operandStrides[d];
                if (++counter[d] < outShape[d]) break;
                offset -= operandStrides[d] * outShape[d];
                counter[d] = 0;
            }
        }
        return offsets;
    }

    /// <summary>Coalesced dimensions and an odometer over all rows (every dimension but the last).</summary>
    private ref struct Plan
    {
        private readonly int[] _shape;
        private readonly int[][] _strides;
        private readonly int[] _counter;
        public readonly int[] Offsets;

        public Plan(int[] shape, int[][] strides)
        {
            (_shape, _strides) = Coalesce(shape, strides);
            _counter = new int[_shape.Length];
            Offsets = new int[strides.Length];
            int rows = 1;
            for (int d = 0; d < _shape.Length - 1; d++) rows *= _shape[d];
            RowCount = Shapes.Numel(shape) == 0 ? 0 : rows;
        }

        public int RowCount { get; }
        public int RowLength => _shape[^1];
        /// <summary>0 when the operand is one value per row; rows of length 1 count as whole rows.</summary>
        public int RowStride(int operand) => _shape[^1] == 1 ? 1 : _strides[operand][^1];

        public void Advance()
        {
            for (int d = _shape.Length - 2; d >= 0; d--)
            {
                _counter[d]++;
                for (int k = 0; k < Offsets.Length; k++) Offsets[k] += _strides[k][d];
                if (_counter[d] < _shape[d]) return;
                for (int k = 0; k < Offsets.Length; k++) Offsets[k] -= _strides[k][d] * _shape[d];
                _counter[d] = 0;
            }
        }

        /// <summary>Drops size-1 dimensions and merges neighbours i, i+1 when stride[i] = stride[i+1]·size[i+1] for every operand.</summary>
        private static (int[] Shape, int[][] Strides) Coalesce(int[] shape, int[][] strides)
        {
            var dims = new List<int>();
            for (int d = 0; d < shape.Length; d++) if (shape[d] != 1) dims.Add(d);
            var outShape = new List<int>();
            var outStrides = new List<int>[strides.Length];
            for (int k = 0; k < strides.Length; k++) outStrides[k] = [];
            foreach (int d in dims)
            {
                bool merge = outShape.Count > 0;
                for (int k = 0; k < strides.Length && merge; k++)
                    merge = outStrides[k][^1] == strides[k][d] * shape[d];
                if (merge)
                {
                    outShape[^1] *= shape[d];
                    for (int k = 0; k < strides.Length; k++) outStrides[k][^1] = strides[k][d];
                }
                else
                {
                    outShape.Add(shape[d]);
                    for (int k = 0; k < strides.Length; k++) outStrides[k].Add(strides[k][d]);
                }
            }
            if (outShape.Count == 0)
            {
                outShape.Add(1);
                for (int k = 0; k < strides.Length; k++) outStrides[k].Add(0);
            }
            return (outShape.ToArray(), Array.ConvertAll(outStrides, s => s.ToArray()));
        }
    }
}
