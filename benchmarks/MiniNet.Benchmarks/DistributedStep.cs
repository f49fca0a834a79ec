using System.Diagnostics;
using MiniNet.Layers;
using MiniNet.Optim;

namespace MiniNet.Benchmarks;

/// <summary>Data-parallel training steps (<c>--distributed</c>, run under mpirun or alone): each workload's global
/// batch split over the ranks, DistributedDataParallel with plain BatchNorm and with SyncBatchNorm; rank 0 prints the
/// step time, images/s, the share of the step spent in collectives, the bytes each rank all-reduces per step and the
/// collectives per step (docs/distributed.md).</summary>
public static class DistributedStep
{
    public static void Run(IEnumerable<Workload> workloads, double seconds)
    {
        Distributed.Init();
        if (Distributed.IsMain)
            Console.WriteLine($"{Distributed.WorldSize} rank(s) × {Threads.MaxCount} thread(s)\n{"workload",-10}{"norm",-7}{"step ms",10}{"img/s",10}{"comm %",8}{"MB/step",9}{"calls/step",11}");
        foreach (Workload w in workloads)
            foreach (bool sync in (bool[])[false, true])
            {
                Rng.ManualSeed(1);
                Module model = sync ? SyncBatchNorm.Convert(w.Build()) : w.Build();
                model.Train();
                var ddp = new DistributedDataParallel(model);
                var optimizer = new SGD(model.Parameters(), lr: 0.01f, momentum: 0.9f);
                int local = w.Batch / Distributed.WorldSize;
                Tensor x = Tensor.Randn([local, .. w.InputShape], seed: 2 + Distributed.Rank);
                int[] labels = [.. Enumerable.Range(0, local).Select(i => i % 10)];
                void Step()
                {
                    using var scope = TensorScope.Begin();
                    optimizer.ZeroGrad(setToNone: true);
                    ddp.Forward(x).CrossEntropy(labels).Backward();
                    optimizer.Step();
                }
                for (int i = 0; i < 3; i++) Step();
                Distributed.Barrier();
                Distributed.ResetTraffic();
                var clock = Stopwatch.StartNew();
                int steps = 0;
                // Every rank runs as many steps: the count is agreed on after the first window.
                do { Step(); steps++; } while (clock.Elapsed.TotalSeconds < seconds);
                Span<long> agreed = [steps];
                Distributed.AllReduce(agreed, ReduceOp.Max);
                for (; steps < agreed[0]; steps++) Step();
                double elapsed = clock.Elapsed.TotalSeconds;
                (long calls, long bytes, double commSeconds) = Distributed.Traffic;
                if (Distributed.IsMain)
                    Console.WriteLine($"{w.Name,-10}{(sync ? "sync" : "plain"),-7}{elapsed / steps * 1000,10:F2}{steps * (double)local * Distributed.WorldSize / elapsed,10:N0}" +
                        $"{100 * commSeconds / elapsed,8:F1}{bytes / (double)steps / 1e6,9:F3}{calls / (double)steps,11:F1}");
            }
    }
}
