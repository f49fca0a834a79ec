using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MiniNet.Kernels;

// Elementwise kernels that TensorPrimitives lacks, mostly the "dx += dy·f'(·)" steps of backward passes.
// Algorithm: one loop driver (Run) walks the spans in Vector512, then Vector256 steps, then a scalar tail, calling a
// struct's static Invoke overloads so the JIT inlines each op's math into the loop, and adds to or overwrites the
// destination.
// Reference twin: Kernels/Reference/ElementwiseReference.cs.

/// <summary>A binary elementwise function written once per vector width.</summary>
internal interface IBinaryOp
{
    static abstract float Invoke(float a, float b);
    static abstract Vector256<float> Invoke(Vector256<float> a, Vector256<float> b);
    static abstract Vector512<float> Invoke(Vector512<float> a, Vector512<float> b);
}

internal static class Elementwise
{
    /// <summary>destination[i] (+)= TOp(a[i], b[i]) for i &lt; length, split over threads when large; overwrites
    /// destination when not <paramref name="accumulate"/>.</summary>
    public static void Apply<TOp>(float[] a, float[] b, float[] destination, int length, bool accumulate)
        where TOp : IBinaryOp
    {
        Debug.Assert(a.Length >= length && b.Length >= length && destination.Length >= length);
        Parallelism.ForSlices(length, (start, count) =>
            Run<TOp>(a.AsSpan(start, count), b.AsSpan(start, count), destination.AsSpan(start, count), accumulate));
    }

    /// <summary>destination[i] += TOp(a[i], b[i]) for every i.</summary>
    public static void Accumulate<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> destination)
        where TOp : IBinaryOp => Run<TOp>(a, b, destination, accumulate: true);

    /// <summary>The loop driver: destination[i] (+)= TOp(a[i], b[i]).</summary>
    private static void Run<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> destination, bool accumulate)
        where TOp : IBinaryOp
    {
        Debug.Assert(a.Length == destination.Length && b.Length == destination.Length);
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        ref float pd = ref MemoryMarshal.GetReference(destination);
        int n = destination.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var r = TOp.Invoke(Vector512.LoadUnsafe(ref pa, (nuint)i), Vector512.LoadUnsafe(ref pb, (nuint)i));
                if (accumulate) r += Vector512.LoadUnsafe(ref pd, (nuint)i);
                r.StoreUnsafe(ref pd, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var r = TOp.Invoke(Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i));
                if (accumulate) r += Vector256.LoadUnsafe(ref pd, (nuint)i);
                r.StoreUnsafe(ref pd, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float r = TOp.Invoke(Unsafe.Add(ref pa, i), Unsafe.Add(ref pb, i));
            Unsafe.Add(ref pd, i) = accumulate ? Unsafe.Add(ref pd, i) + r : r;
        }
    }
}

/// <summary>ReLU backward: (x, dy) ↦ dy where x &gt; 0, else 0.</summary>
internal readonly struct ReluGrad : IBinaryOp
{
    public static float Invoke(float x, float dy) => x > 0f ? dy : 0f;
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy, Vector256<float>.Zero);
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), dy, Vector512<float>.Zero);
}

/// <summary>Sigmoid backward from the saved output: (y, dy) ↦ dy·y·(1 − y).</summary>
internal readonly struct SigmoidGrad : IBinaryOp
{
    public static float Invoke(float y, float dy) => dy * y * (1f - y);
    public static Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * y * (Vector256<float>.One - y);
    public static Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * y * (Vector512<float>.One - y);
}

/// <summary>Tanh backward from the saved output: (y, dy) ↦ dy·(1 − y²).</summary>
internal readonly struct TanhGrad : IBinaryOp
{
    public static float Invoke(float y, float dy) => dy * (1f - y * y);
    public static Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * (Vector256<float>.One - y * y);
    public static Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * (Vector512<float>.One - y * y);
}

/// <summary>Square-root backward from the saved output: (y, dy) ↦ dy / (2y).</summary>
internal readonly struct SqrtGrad : IBinaryOp
{
    public static float Invoke(float y, float dy) => 0.5f * dy / y;
    public static Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => Vector256.Create(0.5f) * dy / y;
    public static Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => Vector512.Create(0.5f) * dy / y;
}

/// <summary>Quotient: (a, b) ↦ a / b (log backward is dy / x).</summary>
internal readonly struct Quotient : IBinaryOp
{
    public static float Invoke(float a, float b) => a / b;
    public static Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => a / b;
    public static Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a / b;
}

/// <summary>Absolute-value backward: (x, dy) ↦ sign(x)·dy, with sign(0) = 0 as in PyTorch.</summary>
internal readonly struct AbsGrad : IBinaryOp
{
    public static float Invoke(float x, float dy) => x > 0f ? dy : x < 0f ? -dy : 0f;
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy, Vector256<float>.Zero)
        - Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), dy, Vector256<float>.Zero);
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), dy, Vector512<float>.Zero)
        - Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), dy, Vector512<float>.Zero);
}
