using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MiniNet.Kernels;

// The logistic sigmoid σ(x) = 1 / (1 + e^(−x)), for the sigmoid op and the GEMM epilogue.
// Algorithm: z = e^(−|x|) lies in (0, 1], so nothing overflows; σ = 1 / (1 + z) for x ≥ 0 and z / (1 + z) below, one
// division either way. e^t (t ≤ 0) is 2^n·p(f): n = round(t·log₂e), f = t − n·ln 2 with ln 2 in two parts (Cody and
// Waite) so that f is accurate, |f| ≤ about ln 2 / 2; p(f) = 1 + f + f²·q(f) with Cephes' degree-5 q for expf, and
// 2^n built in the exponent bits. Below t = −87.33 (e^t leaves the normal floats at −87.3365), z is 0 (σ(x) < 1.2e-38 there).
// The same steps are written for Vector512, Vector256 and a scalar, with the same roundings (FMA, round-to-even, one
// division), so an element's result does not depend on which path or position computed it (tested bitwise).
// Accuracy: within 2.1e-7 of σ relative (about 2 ulp; tested to 3e-7 over [−87, 87]); exact 0 and 1 at ∓∞, NaN kept.
// Why not TensorPrimitives.Sigmoid: the epilogue calls it on rows of 16–32 floats, where a library call's fixed cost
// dominates, and inside the 8×32 kernel it must run on registers (docs/performance.md has the comparison).
// Reference twin: Kernels/Reference/ElementwiseReference.cs (Sigmoid), 1 / (1 + MathF.Exp(−x)).
internal static class Logistic
{
    private const float Log2E = 1.44269504f;
    private const float MinusLn2Hi = -0.693359375f, MinusLn2Lo = 2.12194440e-4f;   // −ln 2 = MinusLn2Hi + MinusLn2Lo
    private const float MinExponent = -87.33f;                                     // e^t is normal for t ≥ this (and a little below)
    private const float Q0 = 1.9875691500e-4f, Q1 = 1.3981999507e-3f, Q2 = 8.3334519073e-3f,
        Q3 = 4.1665795894e-2f, Q4 = 1.6666665459e-1f, Q5 = 5.0000001201e-1f;

    /// <summary>y[i] = σ(x[i]) for every i; y may be x itself.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length != y.Length) throw new ArgumentException($"Logistic.Apply: {x.Length} inputs but {y.Length} outputs.", nameof(y));
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                Of(Vector512.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                Of(Vector256.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref py, i) = Of(Unsafe.Add(ref px, i));
    }

    /// <summary>σ(x).</summary>
    public static float Of(float x)
    {
        float t = -MathF.Abs(x);
        float tc = MathF.Max(t, MinExponent);
        float n = MathF.Round(tc * Log2E);
        float f = MathF.FusedMultiplyAdd(n, MinusLn2Hi, tc);
        f = MathF.FusedMultiplyAdd(n, MinusLn2Lo, f);
        float q = Q0;
        q = MathF.FusedMultiplyAdd(q, f, Q1);
        q = MathF.FusedMultiplyAdd(q, f, Q2);
        q = MathF.FusedMultiplyAdd(q, f, Q3);
        q = MathF.FusedMultiplyAdd(q, f, Q4);
        q = MathF.FusedMultiplyAdd(q, f, Q5);
        float p = MathF.FusedMultiplyAdd(q, f * f, f + 1f);
        float z = t >= MinExponent ? p * BitConverter.Int32BitsToSingle(((int)n + 127) << 23) : 0f;
        float y = (x < 0f ? z : 1f) / (1f + z);
        return float.IsNaN(x) ? x : y;
    }

    /// <summary>σ of each lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Of(Vector512<float> x)
    {
        var t = -Vector512.Abs(x);
        var tc = Vector512.MaxNative(t, Vector512.Create(MinExponent));
        var n = Vector512.Round(tc * Vector512.Create(Log2E));
        var f = Vector512.FusedMultiplyAdd(n, Vector512.Create(MinusLn2Hi), tc);
        f = Vector512.FusedMultiplyAdd(n, Vector512.Create(MinusLn2Lo), f);
        var q = Vector512.Create(Q0);
        q = Vector512.FusedMultiplyAdd(q, f, Vector512.Create(Q1));
        q = Vector512.FusedMultiplyAdd(q, f, Vector512.Create(Q2));
        q = Vector512.FusedMultiplyAdd(q, f, Vector512.Create(Q3));
        q = Vector512.FusedMultiplyAdd(q, f, Vector512.Create(Q4));
        q = Vector512.FusedMultiplyAdd(q, f, Vector512.Create(Q5));
        var p = Vector512.FusedMultiplyAdd(q, f * f, f + Vector512<float>.One);
        var pow2n = ((Vector512.ConvertToInt32(n) + Vector512.Create(127)) << 23).AsSingle();
        var z = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(t, Vector512.Create(MinExponent)), p * pow2n, Vector512<float>.Zero);
        var y = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), z, Vector512<float>.One) / (Vector512<float>.One + z);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x);
    }

    /// <summary>σ of each lane: the same steps as the Vector512 overload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Of(Vector256<float> x)
    {
        var t = -Vector256.Abs(x);
        var tc = Vector256.MaxNative(t, Vector256.Create(MinExponent));
        var n = Vector256.Round(tc * Vector256.Create(Log2E));
        var f = Vector256.FusedMultiplyAdd(n, Vector256.Create(MinusLn2Hi), tc);
        f = Vector256.FusedMultiplyAdd(n, Vector256.Create(MinusLn2Lo), f);
        var q = Vector256.Create(Q0);
        q = Vector256.FusedMultiplyAdd(q, f, Vector256.Create(Q1));
        q = Vector256.FusedMultiplyAdd(q, f, Vector256.Create(Q2));
        q = Vector256.FusedMultiplyAdd(q, f, Vector256.Create(Q3));
        q = Vector256.FusedMultiplyAdd(q, f, Vector256.Create(Q4));
        q = Vector256.FusedMultiplyAdd(q, f, Vector256.Create(Q5));
        var p = Vector256.FusedMultiplyAdd(q, f * f, f + Vector256<float>.One);
        var pow2n = ((Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23).AsSingle();
        var z = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(t, Vector256.Create(MinExponent)), p * pow2n, Vector256<float>.Zero);
        var y = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), z, Vector256<float>.One) / (Vector256<float>.One + z);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x);
    }
}
