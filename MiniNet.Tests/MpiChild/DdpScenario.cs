using MiniNet;
using MiniNet.Layers;
using MiniNet.Optim;

namespace MiniNet.Tests.Distributed;

/// <summary>The data-parallel exactness scenario, shared by the MPI child (each rank) and the tests (the one-process
/// reference): 20 SGD-momentum steps of a BN-DNN on global batches of 64 samples, each rank taking a slice of the
/// given size.</summary>
public static class DdpScenario
{
    public const int Steps = 20, GlobalBatch = 64;

    /// <summary>The model before any step: the same on every rank for the same seed.</summary>
    public static Sequential Model()
    {
        Rng.ManualSeed(11);
        return new Sequential(new Dense(20, 16, bias: false), new BatchNorm1d(16), new ReLU(),
            new Dense(16, 16, bias: false), new BatchNorm1d(16), new Sigmoid(), new Dense(16, 4));
    }

    /// <summary>The one-process computation of plain BatchNorm under DDP: each slice normalised with its own statistics,
    /// the loss the slices' means weighted by their shares, and the running statistics rank 0's slice leaves (DDP's
    /// broadcast of rank 0's buffers at each forward).</summary>
    public static Module TrainSlicesInOneProcess(int[] sizes, Action<int, double> loss)
    {
        Tensor x = Tensor.Randn([GlobalBatch * 5, 20], seed: 1) * 1.3f + 0.2f;
        int[] labels = [.. Enumerable.Range(0, GlobalBatch * 5).Select(i => (i * 7 + i / 3) % 4)];
        Module model = Model();
        var optimizer = new SGD(model.Parameters(), lr: 0.1f, momentum: 0.9f);
        for (int step = 0; step < Steps; step++)
        {
            optimizer.ZeroGrad();
            Tensor[] before = [.. model.Buffers().Select(b => b.Clone())];
            Tensor total = Tensor.Scalar(0f);
            for (int r = sizes.Length - 1; r >= 0; r--)   // rank 0 last: its update of the running statistics is kept
            {
                foreach ((Tensor buffer, Tensor saved) in model.Buffers().Zip(before)) buffer.CopyFrom(saved);
                int start = GlobalBatch * (step % 5) + sizes.Take(r).Sum(), size = sizes[r];
                total = total + model.Call(x.Narrow(0, start, size)).CrossEntropy(labels[start..(start + size)]) * ((float)size / GlobalBatch);
            }
            total.Backward();
            optimizer.Step();
            loss(step, total.Item());
        }
        return model;
    }

    /// <summary>Trains; <paramref name="sizes"/> are the ranks' slices of each global batch (one entry: one process);
    /// <paramref name="loss"/> receives each step's loss over the global batch.</summary>
    public static Module Train(int rank, int[] sizes, bool syncBatchNorm, Action<int, double> loss)
    {
        Tensor x = Tensor.Randn([GlobalBatch * 5, 20], seed: 1) * 1.3f + 0.2f;
        int[] labels = [.. Enumerable.Range(0, GlobalBatch * 5).Select(i => (i * 7 + i / 3) % 4)];
        Module model = sizes.Length > 1 && syncBatchNorm ? SyncBatchNorm.Convert(Model()) : Model();
        DistributedDataParallel? ddp = sizes.Length > 1 ? new DistributedDataParallel(model) : null;
        var optimizer = new SGD(model.Parameters(), lr: 0.1f, momentum: 0.9f);
        int offset = sizes.Take(rank).Sum();
        for (int step = 0; step < Steps; step++)
        {
            int start = GlobalBatch * (step % 5) + offset, size = sizes[rank];
            Tensor xb = x.Narrow(0, start, size);
            int[] yb = labels[start..(start + size)];
            optimizer.ZeroGrad();
            Tensor l = (ddp is null ? model.Call(xb) : ddp.Forward(xb)).CrossEntropy(yb);
            l.Backward();
            optimizer.Step();
            // The global batch's mean loss: each rank's mean weighted by its share.
            Span<double> weighted = [l.Item() * size / GlobalBatch];
            if (ddp is not null) MiniNet.Distributed.AllReduce(weighted);
            loss(step, weighted[0]);
        }
        return model;
    }
}
