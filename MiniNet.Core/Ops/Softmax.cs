using System.Numerics.Tensors;

namespace MiniNet;

public static partial class Ops
{
    /// <summary>softmax(x)ᵢ = e^(xᵢ − max) / Σⱼ e^(xⱼ − max) along <paramref name="axis"/> (max-shifted, so it cannot overflow).</summary>
    public static Tensor Softmax(this Tensor x, int axis = -1)
    {
        (int outer, int length, int inner) = AroundAxis(x.Dims, Shapes.NormalizeAxis(axis, x.Rank, "Softmax"));
        Tensor y = Tensor.Allocate(x.Dims);
        ForEachLine(x.Values, y.Values, outer, length, inner, static (line, dst) =>
        {
            float max = TensorPrimitives.Max(line);
            TensorPrimitives.Subtract(line, max, dst);
            TensorPrimitives.Exp(dst, dst);
            TensorPrimitives.Divide(dst, TensorPrimitives.Sum(dst), dst);
        });
        return Autograd.Record(y, "softmax", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            // dx = y ⊙ (dy − Σ dy·y)
            float[] lines = BufferPool.Rent(x.Numel);
            ForEachLine2(y.Values, dy.Values, lines, outer, length, inner, static (yl, gl, dst) =>
            {
                float dot = TensorPrimitives.Dot(yl, gl);
                TensorPrimitives.Subtract(gl, dot, dst);
                TensorPrimitives.Multiply(dst, yl, dst);
            });
            Autograd.GradTarget(x).Add(lines.AsSpan(0, x.Numel));
            BufferPool.Return(lines);
        });
    }

    /// <summary>log softmax(x)ᵢ = xᵢ − max − ln Σⱼ e^(xⱼ − max) along <paramref name="axis"/>.</summary>
    public static Tensor LogSoftmax(this Tensor x, int axis = -1)
    {
        (int outer, int length, int inner) = AroundAxis(x.Dims, Shapes.NormalizeAxis(axis, x.Rank, "LogSoftmax"));
        Tensor y = Tensor.Allocate(x.Dims);
        ForEachLine(x.Values, y.Values, outer, length, inner, static (line, dst) =>
        {
            float max = TensorPrimitives.Max(line);
            TensorPrimitives.Subtract(line, max, dst);
            TensorPrimitives.Subtract(dst, LogSumExp(dst), dst);
        });
        return Autograd.Record(y, "log_softmax", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            // dx = dy − softmax·Σ dy, with softmax = e^y.
            float[] lines = BufferPool.Rent(x.Numel);
            ForEachLine2(y.Values, dy.Values, lines, outer, length, inner, static (yl, gl, dst) =>
            {
                float total = TensorPrimitives.Sum(gl);
                TensorPrimitives.Exp(yl, dst);
                TensorPrimitives.MultiplyAdd(dst, -total, gl, dst);
            });
            Autograd.GradTarget(x).Add(lines.AsSpan(0, x.Numel));
            BufferPool.Return(lines);
        });
    }

    /// <summary>ln Σ e^(vᵢ) for values already shifted so that their maximum is 0 (accumulated in double).</summary>
    internal static float LogSumExp(ReadOnlySpan<float> shifted)
    {
        double sum = 0;
        foreach (float v in shifted) sum += Math.Exp(v);
        return (float)Math.Log(sum);
    }

    private delegate void LineAction(ReadOnlySpan<float> line, Span<float> destination);
    private delegate void LineAction2(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> destination);

    /// <summary>Applies <paramref name="action"/> to every line along the middle axis of (outer, length, inner);
    /// lines with inner &gt; 1 are gathered into contiguous scratch first.</summary>
    private static void ForEachLine(ReadOnlySpan<float> source, Span<float> destination, int outer, int length, int inner, LineAction action)
    {
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++) action(source.Slice(o * length, length), destination.Slice(o * length, length));
            return;
        }
        Span<float> line = new float[length], result = new float[length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int start = o * length * inner + i;
                for (int l = 0; l < length; l++) line[l] = source[start + l * inner];
                action(line, result);
                for (int l = 0; l < length; l++) destination[start + l * inner] = result[l];
            }
    }

    private static void ForEachLine2(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> destination,
        int outer, int length, int inner, LineAction2 action)
    {
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
                action(a.Slice(o * length, length), b.Slice(o * length, length), destination.Slice(o * length, length));
            return;
        }
        Span<float> la = new float[length], lb = new float[length], result = new float[length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int start = o * length * inner + i;
                for (int l = 0; l < length; l++) { la[l] = a[start + l * inner]; lb[l] = b[start + l * inner]; }
                action(la, lb, result);
                for (int l = 0; l < length; l++) destination[start + l * inner] = result[l];
            }
    }
}
