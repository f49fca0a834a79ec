namespace MiniNet;

/// <summary>Shape arithmetic shared by ops: element counts, formatting, broadcasting, axis handling.</summary>
public static class Shapes
{
    /// <summary>The number of elements of a shape (1 for rank 0; 0 when any dimension is 0, however large the others).</summary>
    /// <exception cref="ArgumentException">More elements than a tensor can hold; the message gives the whole shape.</exception>
    public static int Numel(ReadOnlySpan<int> shape)
    {
        long n = ElementCount(shape);
        if (n > Array.MaxLength)
            throw new ArgumentException($"Shape {Format(shape)} has more elements than a tensor can hold ({Array.MaxLength}).", nameof(shape));
        return (int)n;
    }

    /// <summary>The exact number of elements of a shape as a long (0 when any dimension is 0; long.MaxValue when the
    /// product would overflow; negative dimensions count as 0), for checks before anything is allocated.</summary>
    public static long ElementCount(ReadOnlySpan<int> shape)
    {
        foreach (int d in shape)
            if (d <= 0) return 0;
        long n = 1;
        foreach (int d in shape)
        {
            if (n > long.MaxValue / d) return long.MaxValue;
            n *= d;
        }
        return n;
    }

    /// <summary>Formats a shape as PyTorch prints it: <c>(32, 784)</c>.</summary>
    public static string Format(ReadOnlySpan<int> shape) => "(" + string.Join(", ", shape.ToArray()) + ")";

    /// <summary>Formats a shape as PyTorch prints it: <c>(32, 784)</c>.</summary>
    public static string Format(IReadOnlyList<int> shape) => "(" + string.Join(", ", shape) + ")";

    /// <summary>True when both shapes have the same rank and sizes.</summary>
    public static bool Equal(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    /// <summary>Throws when a dimension is negative or the shape holds more elements than a tensor can.</summary>
    /// <exception cref="ArgumentException">The message names the op and the whole shape; the parameter is "shape".</exception>
    public static void Validate(ReadOnlySpan<int> shape, string op)
    {
        foreach (int d in shape)
            if (d < 0)
                throw new ArgumentException($"{op}: shape {Format(shape)} has a negative dimension.", "shape");
        if (ElementCount(shape) > Array.MaxLength)
            throw new ArgumentException($"{op}: shape {Format(shape)} has more elements than a tensor can hold ({Array.MaxLength}).", "shape");
    }

    /// <summary>Maps a possibly negative axis into [0, rank); throws naming the op otherwise.</summary>
    public static int NormalizeAxis(int axis, int rank, string op)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"{op}: axis {axis} is out of range for a tensor of rank {rank}.");
        return a;
    }

    /// <summary>The NumPy broadcast of two shapes (aligned on the right; sizes equal or one of them 1).</summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast; the message names the op and both shapes.</exception>
    public static int[] Broadcast(int[] a, int[] b, string op)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException(
                    $"{op}: shapes {Format(a)} and {Format(b)} cannot be broadcast (dimension {i}: {da} vs {db}).");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>Row-major strides of <paramref name="shape"/> seen from an output of shape <paramref name="outShape"/>:
    /// leading missing dimensions and dimensions of size 1 get stride 0 (they broadcast).</summary>
    internal static int[] BroadcastStrides(int[] shape, int[] outShape)
    {
        int rank = outShape.Length, offset = rank - shape.Length;
        var strides = new int[rank];
        int stride = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i + offset] = shape[i] == 1 && outShape[i + offset] != 1 ? 0 : stride;
            stride *= shape[i];
        }
        return strides;
    }

    /// <summary>Row-major strides of a contiguous tensor.</summary>
    internal static int[] Strides(int[] shape)
    {
        var strides = new int[shape.Length];
        int stride = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { strides[i] = stride; stride *= shape[i]; }
        return strides;
    }
}
