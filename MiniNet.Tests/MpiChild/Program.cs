// Scenarios for the distributed tests, one per argument; each rank prints "<scenario> ok rank R of N" when its checks
// pass, and throws (ending the job) when one fails.
using MiniNet;
using MiniNet.Layers;

Distributed.Init();
int rank = Distributed.Rank, size = Distributed.WorldSize;
void Check(bool condition, string what)
{
    if (!condition) throw new InvalidOperationException($"rank {rank}: {what}");
}

switch (args[0])
{
    case "collectives":
        foreach (int length in (int[])[0, 1, 7, 3_000_001])
        {
            // Sums, averages, maxima and minima of values that depend on the rank and the position, in every dtype.
            float[] f = [.. Enumerable.Range(0, length).Select(i => (rank + 1) * 0.5f + i % 5)];
            Distributed.AllReduce(f);
            float sumOfRanks = size * (size + 1) / 2 * 0.5f;
            for (int i = 0; i < length; i += Math.Max(1, length / 1000)) Check(f[i] == sumOfRanks + size * (i % 5), $"float sum at {i}: {f[i]}");
            double[] d = [.. Enumerable.Range(0, length).Select(i => (double)rank + i)];
            Distributed.AllReduce(d, ReduceOp.Average);
            for (int i = 0; i < length; i += Math.Max(1, length / 1000)) Check(Math.Abs(d[i] - ((size - 1) / 2.0 + i)) < 1e-12, $"double average at {i}: {d[i]}");
            long[] l = [.. Enumerable.Range(0, length).Select(i => (long)rank * 1_000_000_000_000L + i)];
            Distributed.AllReduce(l, ReduceOp.Max);
            for (int i = 0; i < length; i += Math.Max(1, length / 1000)) Check(l[i] == (size - 1) * 1_000_000_000_000L + i, $"long max at {i}");
            int[] n = [.. Enumerable.Range(0, length).Select(i => rank - i)];
            Distributed.AllReduce(n, ReduceOp.Min);
            for (int i = 0; i < length; i += Math.Max(1, length / 1000)) Check(n[i] == -i, $"int min at {i}");
            float[] b = [.. Enumerable.Range(0, length).Select(i => rank == size - 1 ? i * 2f : -1f)];
            Distributed.Broadcast(b, root: size - 1);
            for (int i = 0; i < length; i += Math.Max(1, length / 1000)) Check(b[i] == i * 2f, $"broadcast at {i}");
            long[] lb = [.. Enumerable.Range(0, length).Select(i => rank == 0 ? i * 3L + (1L << 40) : -1L)];
            Distributed.Broadcast(lb, root: 0);
            for (int i = 0; i < length; i += Math.Max(1, length / 1000)) Check(lb[i] == i * 3L + (1L << 40), $"long broadcast at {i}");
            float[] gathered = new float[length * size];
            Distributed.AllGather([.. Enumerable.Range(0, length).Select(i => rank * 10f + i % 3)], gathered);
            for (int r = 0; r < size; r++)
                for (int i = 0; i < length; i += Math.Max(1, length / 1000)) Check(gathered[r * length + i] == r * 10f + i % 3, $"gather of rank {r} at {i}");
        }
        Tensor t = Tensor.Full([2, 3], rank + 1f);
        Distributed.AllReduce(t, ReduceOp.Average);
        Check(t.ToArray().All(v => v == (size + 1) / 2f), "tensor average");
        Tensor stacked = Distributed.AllGather(Tensor.Full([2], rank));
        Check(stacked.Shape.SequenceEqual([size, 2]) && stacked[size - 1, 1] == size - 1, "tensor gather");
        Tensor counts = Tensor.FromInt64Array([rank, 7L], 2);
        Distributed.Broadcast(counts, root: size - 1);
        Check(counts.ToInt64Array().SequenceEqual([size - 1, 7L]), "int64 tensor broadcast");
        (long calls, long bytes, _) = Distributed.Traffic;
        Check(size == 1 || (calls > 0 && bytes > 3_000_001L * 4), $"traffic counted: {calls} calls, {bytes} bytes");
        Distributed.Barrier();
        break;
    case "mismatch":
        try
        {
            Distributed.AllReduce(new float[rank == 0 ? 3 : 4]);
            Check(false, "a mismatched all-reduce went through");
        }
        catch (InvalidOperationException e) when (e.Message.Contains("every rank must pass the same length"))
        {
            Console.WriteLine($"refused: {e.Message}");
        }
        break;
    case "throw":
        for (int step = 0; ; step++)
        {
            if (rank == 1 && step == 5) throw new InvalidOperationException("rank 1 fails at step 5");
            Distributed.AllReduce(new float[1000]);
        }
    case "ddp":
    {
        // ddp <even|uneven> <sync|plain> <state file>: rank 0 prints each step's global loss and saves the final state.
        int[] sizes = args[1] == "even" ? [.. Enumerable.Repeat(MiniNet.Tests.Distributed.DdpScenario.GlobalBatch / size, size)] : [30, 20, 14];
        if (sizes.Length != size) throw new ArgumentException($"{sizes.Length} slices for {size} ranks");
        var model = MiniNet.Tests.Distributed.DdpScenario.Train(rank, sizes, args[2] == "sync",
            (step, loss) => { if (Distributed.IsMain) Console.WriteLine($"loss {step} {loss:R}"); });
        if (Distributed.IsMain) model.Save(args[3]);
        break;
    }
    case "save":
        // Rank 0 writes a checkpoint (atomically) every few steps while the ranks all-reduce; the test kills rank 1.
        if (rank == 1) Console.WriteLine($"pid {Environment.ProcessId}");
        var weights = new Dictionary<string, Tensor> { ["weight"] = Tensor.Zeros(1 << 20) };
        for (int step = 1; ; step++)
        {
            float[] g = new float[1 << 16];
            g.AsSpan().Fill(1f);
            Distributed.AllReduce(g);
            weights["weight"].Data.Fill(step);
            if (Distributed.IsMain && step % 5 == 0)
            {
                Safetensors.Save(weights, args[1]);
                Console.WriteLine($"saved {step}");
            }
        }
    default:
        throw new ArgumentException($"unknown scenario '{args[0]}'");
}
Console.WriteLine($"{args[0]} ok rank {rank} of {size}{(Distributed.IsMpi ? "" : " (no MPI)")}");
