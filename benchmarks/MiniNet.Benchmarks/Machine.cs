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
    public static Machine Measure()
    {
        double one = Peak(1), all = Parallelism.MaxThreads == 1 ? one : Peak(Parallelism.MaxThreads);
        return new Machine(Describe(), one, all, Parallelism.MaxThreads);
    }

    public override string ToString() =>
        $"{Cpu}; FMA peak {PeakOneThread:F0} GFLOP/s on 1 thread, {PeakAllThreads:F0} on {Threads}";

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
        const long iterations = 100_000_000;
        int lanes = Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : 4;
        Chains(1000);   // compiled before it is timed (the timed loops move to optimised code as they run)
        double best = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var clock = Stopwatch.StartNew();
            Parallelism.For(threads, _ => Chains(iterations));
            best = Math.Max(best, threads * iterations * ChainCount * lanes * 2.0 / clock.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }

    /// <summary>Independent accumulators per thread: more than the multiply-add latency times the units per core, so the
    /// loop is bound by the units' throughput, not by latency.</summary>
    private const int ChainCount = 12;

    private static float Chains(long iterations)
    {
        if (Vector512.IsHardwareAccelerated) return Chains512(iterations);
        if (Vector256.IsHardwareAccelerated) return Chains256(iterations);
        return Chains128(iterations);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]   // kept whole: inlined into the parallel region, its chains could spill
    private static float Chains512(long iterations)
    {
        Vector512<float> x = Vector512.Create(0.999f), y = Vector512.Create(1e-3f);
        Vector512<float> a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, x, y); a1 = Vector512.FusedMultiplyAdd(a1, x, y);
            a2 = Vector512.FusedMultiplyAdd(a2, x, y); a3 = Vector512.FusedMultiplyAdd(a3, x, y);
            a4 = Vector512.FusedMultiplyAdd(a4, x, y); a5 = Vector512.FusedMultiplyAdd(a5, x, y);
            a6 = Vector512.FusedMultiplyAdd(a6, x, y); a7 = Vector512.FusedMultiplyAdd(a7, x, y);
            a8 = Vector512.FusedMultiplyAdd(a8, x, y); a9 = Vector512.FusedMultiplyAdd(a9, x, y);
            a10 = Vector512.FusedMultiplyAdd(a10, x, y); a11 = Vector512.FusedMultiplyAdd(a11, x, y);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]   // kept whole: inlined into the parallel region, its chains could spill
    private static float Chains256(long iterations)
    {
        Vector256<float> x = Vector256.Create(0.999f), y = Vector256.Create(1e-3f);
        Vector256<float> a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, x, y); a1 = Vector256.FusedMultiplyAdd(a1, x, y);
            a2 = Vector256.FusedMultiplyAdd(a2, x, y); a3 = Vector256.FusedMultiplyAdd(a3, x, y);
            a4 = Vector256.FusedMultiplyAdd(a4, x, y); a5 = Vector256.FusedMultiplyAdd(a5, x, y);
            a6 = Vector256.FusedMultiplyAdd(a6, x, y); a7 = Vector256.FusedMultiplyAdd(a7, x, y);
            a8 = Vector256.FusedMultiplyAdd(a8, x, y); a9 = Vector256.FusedMultiplyAdd(a9, x, y);
            a10 = Vector256.FusedMultiplyAdd(a10, x, y); a11 = Vector256.FusedMultiplyAdd(a11, x, y);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]   // kept whole: inlined into the parallel region, its chains could spill
    private static float Chains128(long iterations)
    {
        Vector128<float> x = Vector128.Create(0.999f), y = Vector128.Create(1e-3f);
        Vector128<float> a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector128.FusedMultiplyAdd(a0, x, y); a1 = Vector128.FusedMultiplyAdd(a1, x, y);
            a2 = Vector128.FusedMultiplyAdd(a2, x, y); a3 = Vector128.FusedMultiplyAdd(a3, x, y);
            a4 = Vector128.FusedMultiplyAdd(a4, x, y); a5 = Vector128.FusedMultiplyAdd(a5, x, y);
            a6 = Vector128.FusedMultiplyAdd(a6, x, y); a7 = Vector128.FusedMultiplyAdd(a7, x, y);
            a8 = Vector128.FusedMultiplyAdd(a8, x, y); a9 = Vector128.FusedMultiplyAdd(a9, x, y);
            a10 = Vector128.FusedMultiplyAdd(a10, x, y); a11 = Vector128.FusedMultiplyAdd(a11, x, y);
        }
        return Vector128.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
