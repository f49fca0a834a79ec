using System.Globalization;

namespace MiniNet;

// Int64 and Bool tensors: their storage, factories, element access and conversions. Float32 tensors live in Tensor.cs.
public partial class Tensor
{
    private Tensor(Array values, DType dtype, int[] shape)
    {
        int numel = Shapes.Numel(shape);
        if (values.Length != numel)
            throw new ArgumentException($"Tensor: {values.Length} values for shape {Shapes.Format(shape)}.", "shape");
        (_values, _shape, Numel, DType) = (values, shape, numel, dtype);
    }

    /// <summary>The int64 elements in row-major order (writable in place).</summary>
    /// <exception cref="InvalidOperationException">The tensor is not int64.</exception>
    public Span<long> Int64Data => DType == DType.Int64 && _values is long[] values ? values : throw Unavailable(DType.Int64);

    /// <summary>The bool elements in row-major order (writable in place).</summary>
    /// <exception cref="InvalidOperationException">The tensor is not bool.</exception>
    public Span<bool> BoolData => DType == DType.Bool && _values is bool[] values ? values : throw Unavailable(DType.Bool);

    /// <summary>An int64 tensor over a copy of <paramref name="data"/> with the given shape.</summary>
    /// <exception cref="ArgumentException">The shape's element count differs from the data length.</exception>
    public static Tensor FromInt64Array(long[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckCount(shape, data.Length, "FromInt64Array");
        return new Tensor((long[])data.Clone(), DType.Int64, (int[])shape.Clone());
    }

    /// <summary>A bool tensor over a copy of <paramref name="data"/> with the given shape.</summary>
    /// <exception cref="ArgumentException">The shape's element count differs from the data length.</exception>
    public static Tensor FromBoolArray(bool[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckCount(shape, data.Length, "FromBoolArray");
        return new Tensor((bool[])data.Clone(), DType.Bool, (int[])shape.Clone());
    }

    /// <summary>A tensor of zeros (false for bool) of the given type.</summary>
    public static Tensor Zeros(DType dtype, params int[] shape)
    {
        Shapes.Validate(shape, "Zeros");
        int n = Shapes.Numel(shape);
        return dtype switch
        {
            DType.Float32 => Zeros(shape),
            DType.Int64 => new Tensor(new long[n], DType.Int64, (int[])shape.Clone()),
            DType.Bool => new Tensor(new bool[n], DType.Bool, (int[])shape.Clone()),
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Zeros: unknown dtype."),
        };
    }

    /// <summary>A copy of the int64 elements in row-major order.</summary>
    /// <exception cref="InvalidOperationException">The tensor is not int64.</exception>
    public long[] ToInt64Array() => Int64Data.ToArray();

    /// <summary>A copy of the bool elements in row-major order.</summary>
    /// <exception cref="InvalidOperationException">The tensor is not bool.</exception>
    public bool[] ToBoolArray() => BoolData.ToArray();

    /// <summary>A copy of this tensor with its elements converted to <paramref name="dtype"/>, as PyTorch's
    /// <c>.to(dtype)</c>: float to int64 truncates toward zero; anything to bool is "not zero" (NaN is true); bool to a
    /// number is 1 or 0. The copy is a new leaf (conversions carry no gradient). The same type gives a plain copy.</summary>
    /// <exception cref="ArgumentException">A NaN or infinite float, or one beyond the int64 range, converted to int64.</exception>
    public Tensor To(DType dtype)
    {
        if (dtype == DType) return Clone();
        int[] shape = (int[])_shape.Clone();
        switch (dtype)
        {
            case DType.Float32:
            {
                var values = new float[Numel];
                if (DType == DType.Int64)
                {
                    ReadOnlySpan<long> source = Int64Data;
                    for (int i = 0; i < values.Length; i++) values[i] = source[i];
                }
                else
                {
                    ReadOnlySpan<bool> source = BoolData;
                    for (int i = 0; i < values.Length; i++) values[i] = source[i] ? 1f : 0f;
                }
                return new Tensor(values, shape);
            }
            case DType.Int64:
            {
                var values = new long[Numel];
                if (DType == DType.Float32)
                {
                    ReadOnlySpan<float> source = Data;
                    for (int i = 0; i < values.Length; i++)
                    {
                        float v = source[i];
                        if (!float.IsFinite(v) || v >= 9.223372e18f || v < -9.223372e18f)
                            throw new ArgumentException(
                                $"To(Int64): element {i} is {v.ToString(CultureInfo.InvariantCulture)}, which has no int64 value.", "dtype");
                        values[i] = (long)v;
                    }
                }
                else
                {
                    ReadOnlySpan<bool> source = BoolData;
                    for (int i = 0; i < values.Length; i++) values[i] = source[i] ? 1 : 0;
                }
                return new Tensor(values, DType.Int64, shape);
            }
            case DType.Bool:
            {
                var values = new bool[Numel];
                if (DType == DType.Float32)
                {
                    ReadOnlySpan<float> source = Data;
                    for (int i = 0; i < values.Length; i++) values[i] = source[i] != 0f;   // NaN != 0: true, as PyTorch
                }
                else
                {
                    ReadOnlySpan<long> source = Int64Data;
                    for (int i = 0; i < values.Length; i++) values[i] = source[i] != 0;
                }
                return new Tensor(values, DType.Bool, shape);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "To: unknown dtype.");
        }
    }

    /// <summary>An int64 tensor built from int values (labels or indices a program holds as <c>int[]</c>), copied and
    /// widened.</summary>
    /// <exception cref="ArgumentException">The shape's element count differs from the data length.</exception>
    public static Tensor FromInt64Array(int[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckCount(shape, data.Length, "FromInt64Array");
        var values = new long[data.Length];
        for (int i = 0; i < values.Length; i++) values[i] = data[i];
        return new Tensor(values, DType.Int64, (int[])shape.Clone());
    }

    /// <summary>An op's int64 output over <paramref name="values"/> (not copied).</summary>
    internal static Tensor OfInt64(long[] values, int[] shape) => new(values, DType.Int64, shape);

    /// <summary>An op's bool output over <paramref name="values"/> (not copied).</summary>
    internal static Tensor OfBool(bool[] values, int[] shape) => new(values, DType.Bool, shape);

    /// <summary>An op's output of any type: <see cref="Allocate"/> for float32, a fresh array otherwise.</summary>
    internal static Tensor AllocateOf(DType dtype, int[] shape) => dtype switch
    {
        DType.Float32 => Allocate(shape),
        DType.Int64 => OfInt64(new long[Shapes.Numel(shape)], shape),
        _ => OfBool(new bool[Shapes.Numel(shape)], shape),
    };

    /// <summary>The backing array of any type (float[] at least <see cref="Numel"/> long, long[] or bool[]), for kernels
    /// that only move elements; the caller keeps this tensor reachable while it uses the array.</summary>
    internal Array Elements => DType == DType.Float32 ? Storage : _values ?? throw Unavailable(DType);

    /// <summary>A tensor of another shape over the same int64 or bool array (float32 tensors use <see cref="View"/>).</summary>
    internal Tensor ShareElements(int[] shape) => new(_values ?? throw Unavailable(DType), DType, shape);

    private static void CheckCount(int[] shape, int length, string op)
    {
        ArgumentNullException.ThrowIfNull(shape);
        Shapes.Validate(shape, op);
        if (Shapes.Numel(shape) != length)
            throw new ArgumentException($"{op}: shape {Shapes.Format(shape)} holds {Shapes.Numel(shape)} elements but data has {length}.", nameof(shape));
    }
}
