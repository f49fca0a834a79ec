using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MiniNet.Kernels;

namespace MiniNet.Benchmarks;

/// <summary>What the figures were measured on: the CPU's name and family/model (from /proc/cpuinfo where there is one)
/// and its single-precision fused multiply-add peak, measured, on one thread and on all of MiniNet's threads. Hosts
/// of the same nominal kind differ (one with full-width AVX-512 units does twice the multiply-adds per cycle of one
/// that splits each 512-bit operation in two), so a figure means little without the peak it was reached against.</summary>
public sealed record Machine(string Cpu, double PeakOneThread, double PeakAllThreads, int Threads)
{
    /// <summary>Whether the peak can be measured: without fused multiply-add instructions the vector FusedMultiplyAdd
    /// runs in software, and its rate says nothing about the machine.</summary>
    public bool HasPeak => !double.IsNaN(PeakAllThreads);

    public static Machine Measure()
    {
        if (!System.Runtime.Intrinsics.X86.Fma.IsSupported && !System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported)
            return new Machine(Describe(), double.NaN, double.NaN, Parallelism.MaxThreads);
        double one = Peak(1), all = Parallelism.MaxThreads == 1 ? one : Peak(Parallelism.MaxThreads);
        return new Machine(Describe(), one, all, Parallelism.MaxThreads);
    }

    public override string ToString() => HasPeak
        ? $"{Cpu}; FMA peak {PeakOneThread:F0} GFLOP/s on 1 thread, {PeakAllThreads:F0} on {Threads}"
        : $"{Cpu}; no hardware fused multiply-add, so no FMA peak measured";

    private static string Describe()
    {
        string architecture = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
        string[] lines;
        try { lines = File.ReadAllLines("/proc/cpuinfo"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return architecture; }
        string? Field(string name) => lines
            .Select(line => line.Split(':', 2))
            .FirstOrDefault(parts => parts.Length == 2 && parts[0].Trim() == name)?[1].Trim();
        if (Field("model name") is { } model)
            return $"{model} (family {Field("cpu family") ?? "?"}, model {Field("model") ?? "?"})";
        // Arm's /proc/cpuinfo names the core by implementer and part numbers instead.
        return $"{architecture} (implementer {Field("CPU implementer") ?? "?"}, part {Field("CPU part") ?? "?"})";
    }

    /// <summary>GFLOP/s of <paramref name="threads"/> threads each running independent chains of multiply-adds on the
    /// widest accelerated vectors, 1.2 billion per thread (0.2–0.4 s on the hosts seen so far; the best of three tries).</summary>
    private static double Peak(int threads)
    {
        if (Vector512.IsHardwareAccelerated) return Peak<Vector512<float>, Width512>(threads);
        if (Vector256.IsHardwareAccelerated) return Peak<Vector256<float>, Width256>(threads);
        return Peak<Vector128<float>, Width128>(threads);
    }

    private static double Peak<TVector, TWidth>(int threads) where TWidth : struct, IWidth<TVector>
    {
        const long iterations = 100_000_000;
        Chains<TVector, TWidth>(1000);   // compiled before it is timed (the timed loops move to optimised code as they run)
        double best = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var clock = Stopwatch.StartNew();
            Parallelism.For(threads, _ => Chains<TVector, TWidth>(iterations));
            best = Math.Max(best, threads * iterations * ChainCount * TWidth.Lanes * 2.0 / clock.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }

    /// <summary>Independent accumulators per thread: more than the multiply-add latency times the units per core, so the
    /// loop is bound by the units' throughput, not by latency.</summary>
    private const int ChainCount = 12;

    /// <summary>The vector operations the peak loop needs, for one width (the JIT compiles <see cref="Chains{TVector, TWidth}"/>
    /// once per width, with these calls inlined).</summary>
    private interface IWidth<TVector>
    {
        static abstract int Lanes { get; }
        static abstract TVector Create(float value);
        static abstract TVector FusedMultiplyAdd(TVector a, TVector b, TVector c);
        static abstract float Sum(TVector a, TVector b);
    }

    private readonly struct Width512 : IWidth<Vector512<float>>
    {
        public static int Lanes => Vector512<float>.Count;
        public static Vector512<float> Create(float value) => Vector512.Create(value);
        public static Vector512<float> FusedMultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
        public static float Sum(Vector512<float> a, Vector512<float> b) => Vector512.Sum(a + b);
    }

    private readonly struct Width256 : IWidth<Vector256<float>>
    {
        public static int Lanes => Vector256<float>.Count;
        public static Vector256<float> Create(float value) => Vector256.Create(value);
        public static Vector256<float> FusedMultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
        public static float Sum(Vector256<float> a, Vector256<float> b) => Vector256.Sum(a + b);
    }

    private readonly struct Width128 : IWidth<Vector128<float>>
    {
        public static int Lanes => Vector128<float>.Count;
        public static Vector128<float> Create(float value) => Vector128.Create(value);
        public static Vector128<float> FusedMultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);
        public static float Sum(Vector128<float> a, Vector128<float> b) => Vector128.Sum(a + b);
    }

    /// <summary>Twelve chains a = a·x + y, <paramref name="iterations"/> steps each; returns a sum of them so the loop is kept.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]   // kept whole: inlined into the parallel region, its chains could spill
    private static float Chains<TVector, TWidth>(long iterations) where TWidth : struct, IWidth<TVector>
    {
        TVector x = TWidth.Create(0.999f), y = TWidth.Create(1e-3f);
        TVector a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
        for (long i = 0; i < iterations; i++)
        {
            a0 = TWidth.FusedMultiplyAdd(a0, x, y); a1 = TWidth.FusedMultiplyAdd(a1, x, y);
            a2 = TWidth.FusedMultiplyAdd(a2, x, y); a3 = TWidth.FusedMultiplyAdd(a3, x, y);
            a4 = TWidth.FusedMultiplyAdd(a4, x, y); a5 = TWidth.FusedMultiplyAdd(a5, x, y);
            a6 = TWidth.FusedMultiplyAdd(a6, x, y); a7 = TWidth.FusedMultiplyAdd(a7, x, y);
            a8 = TWidth.FusedMultiplyAdd(a8, x, y); a9 = TWidth.FusedMultiplyAdd(a9, x, y);
            a10 = TWidth.FusedMultiplyAdd(a10, x, y); a11 = TWidth.FusedMultiplyAdd(a11, x, y);
        }
        return TWidth.Sum(a0, a1) + TWidth.Sum(a2, a3) + TWidth.Sum(a4, a5) + TWidth.Sum(a6, a7) + TWidth.Sum(a8, a9) + TWidth.Sum(a10, a11);
    }
}
