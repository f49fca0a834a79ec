using System.Numerics.Tensors;
using MiniNet.Kernels;

namespace MiniNet;

/// <summary>Differentiable tensor operations. Each is an extension method (<c>x.Relu()</c>) and a static method (<c>Ops.Relu(x)</c>).</summary>
public static partial class Ops
{
    /// <summary>a + b, elementwise with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast.</exception>
    public static Tensor Add(this Tensor a, Tensor b)
    {
        Tensor y = Binary<AddRows>(a, b, "Add");
        return Autograd.Record(y, "add", [a, b], dy =>
        {
            if (a.RequiresGrad) ReduceInto(a, dy.Values, y.Dims);
            if (b.RequiresGrad) ReduceInto(b, dy.Values, y.Dims);
        });
    }

    /// <summary>a − b, elementwise with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast.</exception>
    public static Tensor Sub(this Tensor a, Tensor b)
    {
        Tensor y = Binary<SubtractRows>(a, b, "Sub");
        return Autograd.Record(y, "sub", [a, b], dy =>
        {
            if (a.RequiresGrad) ReduceInto(a, dy.Values, y.Dims);
            if (b.RequiresGrad)
            {
                float[] negated = BufferPool.Rent(dy.Numel);
                TensorPrimitives.Negate(dy.Values, negated.AsSpan(0, dy.Numel));
                ReduceInto(b, negated.AsSpan(0, dy.Numel), y.Dims);
                BufferPool.Return(negated);
            }
        });
    }

    /// <summary>a·b, elementwise with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast.</exception>
    public static Tensor Mul(this Tensor a, Tensor b)
    {
        Tensor y = Binary<MultiplyRows>(a, b, "Mul");
        return Autograd.Record(y, "mul", [a, b], dy =>
        {
            // d(a·b)/da = b and d(a·b)/db = a, each summed back down to its operand's shape.
            if (a.RequiresGrad) ReduceProduct<MultiplyRows>(a, dy, b, y.Dims);
            if (b.RequiresGrad) ReduceProduct<MultiplyRows>(b, dy, a, y.Dims);
        });
    }

    /// <summary>a / b, elementwise with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast.</exception>
    public static Tensor Div(this Tensor a, Tensor b)
    {
        Tensor y = Binary<DivideRows>(a, b, "Div");
        return Autograd.Record(y, "div", [a, b], dy =>
        {
            // d(a/b)/da = 1/b; d(a/b)/db = −a/b² = −y/b.
            if (a.RequiresGrad) ReduceProduct<DivideRows>(a, dy, b, y.Dims);
            if (b.RequiresGrad)
            {
                Tensor t = Binary<MultiplyRows>(dy, y, "Div", scratch: true);
                TensorPrimitives.Negate(t.Values, t.Values);
                ReduceProduct<DivideRows>(b, t, b, y.Dims);
                t.ReturnScratch();
            }
        });
    }

    /// <summary>x + s for a scalar s.</summary>
    public static Tensor Add(this Tensor x, float s)
    {
        Tensor y = Tensor.Allocate(x.Dims);
        TensorPrimitives.Add(x.Values, s, y.Values);
        return Autograd.Record(y, "add_scalar", [x], dy =>
        {
            if (x.RequiresGrad) Autograd.GradTarget(x).Add(dy.Values);
        });
    }

    /// <summary>x·s for a scalar s.</summary>
    public static Tensor Mul(this Tensor x, float s)
    {
        Tensor y = Tensor.Allocate(x.Dims);
        TensorPrimitives.Multiply(x.Values, s, y.Values);
        return Autograd.Record(y, "mul_scalar", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            Span<float> dx = Autograd.GradTarget(x).ForAdding();
            TensorPrimitives.MultiplyAdd(dy.Values, s, dx, dx);
        });
    }

    /// <summary>x / s for a scalar s (computed as x·(1/s)).</summary>
    public static Tensor Div(this Tensor x, float s) => x.Mul(1f / s);

    /// <summary>y = op(a, b) over the broadcast shape, without recording; a scratch result is the caller's to return.</summary>
    private static Tensor Binary<TOp>(Tensor a, Tensor b, string op, bool scratch = false) where TOp : IRowOp
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (Shapes.Equal(a.Dims, b.Dims))
        {
            Tensor same = scratch ? Tensor.Scratch(a.Dims, zeroed: false) : Tensor.Allocate(a.Dims);
            TOp.Rows(a.Values, b.Values, same.Values);
            return same;
        }
        int[] shape = Shapes.Broadcast(a.Dims, b.Dims, op);
        Tensor y = scratch ? Tensor.Scratch(shape, zeroed: false) : Tensor.Allocate(shape);
        Broadcasting.Binary<TOp>(a.Values, Shapes.BroadcastStrides(a.Dims, shape), b.Values,
            Shapes.BroadcastStrides(b.Dims, shape), shape, y.Values);
        return y;
    }

    /// <summary>input's gradient += op(dy, other), summed down to the input's shape.</summary>
    private static void ReduceProduct<TOp>(Tensor input, Tensor dy, Tensor other, int[] gradShape) where TOp : IRowOp
    {
        Tensor product = Binary<TOp>(dy, other, "backward", scratch: true);
        ReduceInto(input, product.Values, gradShape);
        product.ReturnScratch();
    }

    /// <summary>The array behind <paramref name="input"/>'s gradient target, cleared when fresh, for kernels that add
    /// into it from several threads (the target itself cannot be captured).</summary>
    private static float[] AddingInto(Tensor input)
    {
        GradientTarget target = Autograd.GradTarget(input);
        target.ForAdding();
        return target.Tensor.Storage;
    }

    /// <summary>input's gradient += gradient (of shape <paramref name="gradShape"/>) summed over the dimensions the input
    /// was broadcast along.</summary>
    private static void ReduceInto(Tensor input, ReadOnlySpan<float> gradient, int[] gradShape)
    {
        GradientTarget target = Autograd.GradTarget(input);
        if (Shapes.Equal(input.Dims, gradShape)) target.Add(gradient);
        else Broadcasting.SumTo(gradient, gradShape, Shapes.BroadcastStrides(input.Dims, gradShape), target.ForAdding());
    }
}
