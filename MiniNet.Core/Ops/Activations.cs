using MiniNet.Kernels;

namespace MiniNet;

/// <summary>An elementwise activation: its value, and its slope given the input and the output (whichever is cheaper).</summary>
internal interface IPointwise
{
    float Value(float x);

    float Slope(float x, float y);
}

public static partial class Ops
{
    /// <summary>y = x for x &gt; 0, else <paramref name="negativeSlope"/>·x (PyTorch's <c>leaky_relu</c>; the gradient
    /// at 0 is the negative slope, as there).</summary>
    public static Tensor LeakyRelu(this Tensor x, float negativeSlope = 0.01f)
    {
        RequireFinite(negativeSlope, nameof(negativeSlope));
        return Pointwise(x, "leaky_relu", new LeakyReluFn(negativeSlope));
    }

    /// <summary>y = x for x &gt; 0, else α·(eˣ − 1) (PyTorch's <c>elu</c>).</summary>
    public static Tensor Elu(this Tensor x, float alpha = 1f)
    {
        RequireFinite(alpha, nameof(alpha));
        return Pointwise(x, "elu", new EluFn(alpha));
    }

    /// <summary>Gaussian error linear unit, y = x·Φ(x), with Φ the standard normal distribution function
    /// (<paramref name="approximate"/> "none"), or PyTorch's tanh approximation ("tanh"):
    /// y = x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    public static Tensor Gelu(this Tensor x, string approximate = "none") => approximate switch
    {
        "none" => Pointwise(x, "gelu", new GeluFn()),
        "tanh" => Pointwise(x, "gelu_tanh", new GeluTanhFn()),
        _ => throw new ArgumentException($"approximate must be \"none\" or \"tanh\", not \"{approximate}\".", nameof(approximate)),
    };

    /// <summary>Sigmoid linear unit (Swish), y = x·σ(x).</summary>
    public static Tensor Silu(this Tensor x) => Pointwise(x, "silu", new SiluFn());

    /// <summary>y = log(1 + e^(β·x))/β, and y = x where β·x exceeds <paramref name="threshold"/> (PyTorch's
    /// <c>softplus</c>, whose linear branch keeps large inputs exact).</summary>
    public static Tensor Softplus(this Tensor x, float beta = 1f, float threshold = 20f)
    {
        if (!(beta > 0) || !float.IsFinite(beta)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be positive and finite.");
        RequireFinite(threshold, nameof(threshold));
        return Pointwise(x, "softplus", new SoftplusFn(beta, threshold));
    }

    private static void RequireFinite(float value, string name)
    {
        if (!float.IsFinite(value)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite.");
    }

    /// <summary>y = f(x) elementwise, recorded with dx += dy·f′(x).</summary>
    private static Tensor Pointwise<TFn>(Tensor x, string name, TFn fn) where TFn : struct, IPointwise
    {
        ArgumentNullException.ThrowIfNull(x);
        Tensor y = Tensor.Allocate(x.Dims);
        float[] xs = x.Storage, ys = y.Storage;
        Parallelism.ForSlices(x.Numel, (start, count) =>
        {
            for (int i = start; i < start + count; i++) ys[i] = fn.Value(xs[i]);
        });
        return Autograd.Record(y, name, [x], dy =>
        {
            if (!x.RequiresGrad) return;
            GradientTarget target = Autograd.GradTarget(x);
            float[] dys = dy.Storage, dxs = target.Tensor.Storage;
            bool accumulate = target.Accumulate;
            Parallelism.ForSlices(x.Numel, (start, count) =>
            {
                for (int i = start; i < start + count; i++)
                {
                    float g = dys[i] * fn.Slope(xs[i], ys[i]);
                    dxs[i] = accumulate ? dxs[i] + g : g;
                }
            });
        });
    }

    private readonly struct LeakyReluFn(float slope) : IPointwise
    {
        public float Value(float x) => x > 0 ? x : slope * x;

        public float Slope(float x, float y) => x > 0 ? 1f : slope;
    }

    private readonly struct EluFn(float alpha) : IPointwise
    {
        public float Value(float x) => x > 0 ? x : alpha * (MathF.Exp(x) - 1f);

        // For x ≤ 0, d/dx α(eˣ − 1) = α·eˣ = y + α.
        public float Slope(float x, float y) => x > 0 ? 1f : y + alpha;
    }

    private readonly struct GeluFn : IPointwise
    {
        private const double InvSqrt2 = 0.70710678118654752440, InvSqrt2Pi = 0.39894228040143267794;

        // Φ from the error function in double (MathNet's), so that the float result is correctly rounded or nearly.
        public float Value(float x) => (float)(x * 0.5 * (1 + MathNet.Numerics.SpecialFunctions.Erf(x * InvSqrt2)));

        // Φ(x) + x·φ(x).
        public float Slope(float x, float y) =>
            (float)(0.5 * (1 + MathNet.Numerics.SpecialFunctions.Erf(x * InvSqrt2)) + x * InvSqrt2Pi * Math.Exp(-0.5 * x * x));
    }

    private readonly struct GeluTanhFn : IPointwise
    {
        private const float Root2OverPi = 0.7978845608f, Cubic = 0.044715f;

        public float Value(float x) => 0.5f * x * (1f + MathF.Tanh(Root2OverPi * (x + Cubic * x * x * x)));

        public float Slope(float x, float y)
        {
            float t = MathF.Tanh(Root2OverPi * (x + Cubic * x * x * x));
            return 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * Root2OverPi * (1f + 3f * Cubic * x * x);
        }
    }

    private readonly struct SiluFn : IPointwise
    {
        public float Value(float x) => x / (1f + MathF.Exp(-x));

        public float Slope(float x, float y)
        {
            float s = 1f / (1f + MathF.Exp(-x));
            return s * (1f + x * (1f - s));
        }
    }

    private readonly struct SoftplusFn(float beta, float threshold) : IPointwise
    {
        // log(1 + e^z) computed as max(z, 0) + log1p(e^−|z|), which never overflows and keeps the tiny values of
        // very negative z (log1p by its series where e^−|z| is small enough for two terms to be exact in float).
        public float Value(float x)
        {
            float z = beta * x;
            if (z > threshold) return x;
            double e = Math.Exp(-Math.Abs((double)z));
            double log1p = e < 1e-4 ? e - 0.5 * e * e : Math.Log(1 + e);
            return (float)((Math.Max(z, 0.0) + log1p) / beta);
        }

        public float Slope(float x, float y)
        {
            float z = beta * x;
            return z > threshold ? 1f : 1f / (1f + MathF.Exp(-z));
        }
    }
}
