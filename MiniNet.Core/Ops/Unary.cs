using System.Numerics.Tensors;
using MiniNet.Kernels;

namespace MiniNet;

public static partial class Ops
{
    /// <summary>y = −x.</summary>
    public static Tensor Neg(this Tensor x)
    {
        Tensor y = Tensor.Allocate(x.Dims);
        TensorPrimitives.Negate(x.Values, y.Values);
        return Autograd.Record(y, "neg", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            Span<float> dx = Autograd.GradTarget(x).ForAdding();
            TensorPrimitives.Subtract(dx, dy.Values, dx);
        });
    }

    /// <summary>y = eˣ.</summary>
    public static Tensor Exp(this Tensor x)
    {
        Tensor y = Tensor.Allocate(x.Dims);
        TensorPrimitives.Exp(x.Values, y.Values);
        return Autograd.Record(y, "exp", [x], dy =>
        {
            // d eˣ/dx = eˣ = y: reuse the output.
            if (!x.RequiresGrad) return;
            Span<float> dx = Autograd.GradTarget(x).ForAdding();
            TensorPrimitives.MultiplyAdd(dy.Values, y.Values, dx, dx);
        });
    }

    /// <summary>y = ln x (NaN for x &lt; 0, −∞ at 0).</summary>
    public static Tensor Log(this Tensor x)
    {
        Tensor y = Tensor.Allocate(x.Dims);
        TensorPrimitives.Log(x.Values, y.Values);
        return Autograd.Record(y, "log", [x], dy =>
        {
            if (x.RequiresGrad) Elementwise.Accumulate<Quotient>(dy.Values, x.Values, Autograd.GradTarget(x).ForAdding());   // dx += dy / x
        });
    }

    /// <summary>y = √x.</summary>
    public static Tensor Sqrt(this Tensor x)
    {
        Tensor y = Tensor.Allocate(x.Dims);
        TensorPrimitives.Sqrt(x.Values, y.Values);
        return Autograd.Record(y, "sqrt", [x], dy =>
        {
            if (x.RequiresGrad) Elementwise.Accumulate<SqrtGrad>(y.Values, dy.Values, Autograd.GradTarget(x).ForAdding());   // dx += dy / (2y)
        });
    }

    /// <summary>y = |x|; the gradient at 0 is 0, as in PyTorch.</summary>
    public static Tensor Abs(this Tensor x)
    {
        Tensor y = Tensor.Allocate(x.Dims);
        TensorPrimitives.Abs(x.Values, y.Values);
        return Autograd.Record(y, "abs", [x], dy =>
        {
            if (x.RequiresGrad) Elementwise.Accumulate<AbsGrad>(x.Values, dy.Values, Autograd.GradTarget(x).ForAdding());   // dx += sign(x)·dy
        });
    }

    /// <summary>y = xᵖ for a scalar exponent p.</summary>
    public static Tensor Pow(this Tensor x, float exponent)
    {
        Tensor y = Tensor.Allocate(x.Dims);
        if (exponent == 2f) TensorPrimitives.Multiply(x.Values, x.Values, y.Values);
        else TensorPrimitives.Pow(x.Values, exponent, y.Values);
        return Autograd.Record(y, "pow", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            // dx += dy·p·x^(p−1)
            float[] rented = BufferPool.Rent(x.Numel);
            Span<float> slope = rented.AsSpan(0, x.Numel);
            if (exponent == 2f) TensorPrimitives.Multiply(x.Values, 2f, slope);
            else
            {
                TensorPrimitives.Pow(x.Values, exponent - 1f, slope);
                TensorPrimitives.Multiply(slope, exponent, slope);
            }
            Span<float> dx = Autograd.GradTarget(x).ForAdding();
            TensorPrimitives.MultiplyAdd(dy.Values, slope, dx, dx);
            BufferPool.Return(rented);
        });
    }

    /// <summary>y = x². Composite: <c>Pow(x, 2)</c>.</summary>
    public static Tensor Square(this Tensor x) => x.Pow(2f);

    /// <summary>Rectified linear unit, y = max(x, 0); the gradient at 0 is 0.</summary>
    public static Tensor Relu(this Tensor x)
    {
        Tensor y = Tensor.Allocate(x.Dims);
        float[] xs = x.Storage, ys = y.Storage;
        Parallelism.ForSlices(x.Numel, (start, count) => TensorPrimitives.Max(xs.AsSpan(start, count), 0f, ys.AsSpan(start, count)));
        return Autograd.Record(y, "relu", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            GradientTarget dx = Autograd.GradTarget(x);
            Elementwise.Apply<ReluGrad>(xs, dy.Storage, dx.Tensor.Storage, x.Numel, dx.Accumulate);   // dx (+)= dy·[x > 0]
        });
    }

    /// <summary>Logistic sigmoid, y = 1 / (1 + e^(−x)).</summary>
    public static Tensor Sigmoid(this Tensor x)
    {
        Tensor y = Tensor.Allocate(x.Dims);
        float[] xs = x.Storage, ys = y.Storage;
        Parallelism.ForSlices(x.Numel, (start, count) => Logistic.Apply(xs.AsSpan(start, count), ys.AsSpan(start, count)));
        return Autograd.Record(y, "sigmoid", [x], dy =>
        {
            // dσ/dx = σ·(1 − σ): reuse the saved output instead of recomputing e^(−x).
            if (!x.RequiresGrad) return;
            GradientTarget dx = Autograd.GradTarget(x);
            Elementwise.Apply<SigmoidGrad>(ys, dy.Storage, dx.Tensor.Storage, x.Numel, dx.Accumulate);
        });
    }

    /// <summary>Hyperbolic tangent, y = tanh x.</summary>
    public static Tensor Tanh(this Tensor x)
    {
        Tensor y = Tensor.Allocate(x.Dims);
        TensorPrimitives.Tanh(x.Values, y.Values);
        return Autograd.Record(y, "tanh", [x], dy =>
        {
            if (x.RequiresGrad) Elementwise.Accumulate<TanhGrad>(y.Values, dy.Values, Autograd.GradTarget(x).ForAdding());   // dx += dy·(1 − y²)
        });
    }

    /// <summary>y = min(max(x, <paramref name="min"/>), <paramref name="max"/>), either bound optional (PyTorch's
    /// <c>clamp</c>: where min &gt; max every element is max; NaN stays NaN). The gradient passes where
    /// min ≤ x ≤ max, as in PyTorch.</summary>
    public static Tensor Clamp(this Tensor x, float? min = null, float? max = null)
    {
        if (min is null && max is null) throw new ArgumentException("Clamp needs min, max or both.", nameof(min));
        if (min is float lo && float.IsNaN(lo)) throw new ArgumentOutOfRangeException(nameof(min), lo, "min must not be NaN.");
        if (max is float hi && float.IsNaN(hi)) throw new ArgumentOutOfRangeException(nameof(max), hi, "max must not be NaN.");
        return Pointwise(x, "clamp", new ClampFn(min ?? float.NegativeInfinity, max ?? float.PositiveInfinity));
    }

    /// <summary>y = −1, 0 or 1 as x is negative, zero or positive; its gradient is zero.</summary>
    public static Tensor Sign(this Tensor x) => Pointwise(x, "sign", new SignFn());

    /// <summary>y = 1/√x.</summary>
    public static Tensor Rsqrt(this Tensor x) => Pointwise(x, "rsqrt", new RsqrtFn());

    private readonly struct ClampFn(float min, float max) : IPointwise
    {
        public float Value(float x) => MathF.Min(MathF.Max(x, min), max);

        public float Slope(float x, float y) => x >= min && x <= max ? 1f : 0f;
    }

    private readonly struct SignFn : IPointwise
    {
        public float Value(float x) => x > 0 ? 1f : x < 0 ? -1f : x;   // ±0 and NaN stay as they are

        public float Slope(float x, float y) => 0f;
    }

    private readonly struct RsqrtFn : IPointwise
    {
        public float Value(float x) => 1f / MathF.Sqrt(x);

        // d x^(−1/2)/dx = −y³/2.
        public float Slope(float x, float y) => -0.5f * y * y * y;
    }
}
