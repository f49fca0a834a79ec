using MiniNet.Layers;
using MiniNet.Optim;

namespace MiniNet.Tests.Layers;

/// <summary>The fusion planner used by a custom container: the same fusion a Sequential gets, bitwise.</summary>
[TestFixture]
public class FusionTests
{
    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>A residual block that runs its body through the planner: x + BN(W₂·ReLU(BN(W₁·x))), then ReLU.</summary>
    private sealed class Residual : Module
    {
        private readonly Module[] _body;

        public Residual(int features)
        {
            _body = [RegisterModule("fc1", new Dense(features, features, bias: false)), RegisterModule("bn1", new BatchNorm1d(features)),
                RegisterModule("relu", new ReLU()), RegisterModule("fc2", new Dense(features, features, bias: false)),
                RegisterModule("bn2", new BatchNorm1d(features))];
        }

        public IReadOnlyList<Module> Body => _body;
        public override Tensor Forward(Tensor x) => (x + Fusion.Forward(x, _body)).Relu();
    }

    /// <summary>Trains the block and the same body as a Sequential side by side from the same weights, then compares
    /// outputs, gradients and running statistics bitwise, in training (BatchNorm → ReLU fused) and under NoGrad in
    /// evaluation (Dense → BatchNorm → ReLU fused).</summary>
    [Test]
    public void CustomBlock_GetsTheSequentialsFusion_Bitwise()
    {
        Rng.ManualSeed(21);
        var block = new Residual(16);
        var sequential = new Sequential(block.Body.Select(m => m.Clone()).ToArray());
        var x = Tensor.Randn([32, 16], seed: 22);
        int[] labels = Enumerable.Range(0, 32).Select(i => i % 16).ToArray();
        var optBlock = new SGD(block.Parameters(), lr: 0.1f, momentum: 0.9f);
        var optSeq = new SGD(sequential.Parameters(), lr: 0.1f, momentum: 0.9f);
        for (int step = 0; step < 3; step++)
        {
            optBlock.ZeroGrad();
            optSeq.ZeroGrad();
            Tensor a = block.Forward(x), b = (x + sequential.Forward(x)).Relu();
            Assert.That(Bits(a.ToArray()), Is.EqualTo(Bits(b.ToArray())), $"step {step}: outputs");
            a.CrossEntropy(labels).Backward();
            b.CrossEntropy(labels).Backward();
            foreach (var (p, q) in block.Parameters().Zip(sequential.Parameters()))
                Assert.That(Bits(p.Grad!.ToArray()), Is.EqualTo(Bits(q.Grad!.ToArray())), $"step {step}: gradients");
            optBlock.Step();
            optSeq.Step();
        }
        foreach (var (p, q) in block.StateDict().Values.Zip(sequential.StateDict().Values))
            Assert.That(Bits(p.ToArray()), Is.EqualTo(Bits(q.ToArray())), "weights and running statistics");

        block.Eval();
        sequential.Eval();
        using var noGrad = Autograd.NoGrad();
        float[] fused = block.Forward(x).ToArray();
        Assert.That(Bits(fused), Is.EqualTo(Bits((x + sequential.Forward(x)).Relu().ToArray())), "evaluation");
        float[] unfused = (x + Fusion.Forward(x, FusionKinds.None, [.. block.Body])).Relu().ToArray();
        Assert.That(fused.Zip(unfused).Any(p => p.First != p.Second), Is.True, "the fused run rounds differently: the planner fused it");
    }

    [Test]
    public void Forward_WithANullModule_NamesIt() =>
        Assert.That(Assert.Throws<ArgumentNullException>(() => Fusion.Forward(Tensor.Zeros([1, 2]), new ReLU(), null!))!.Message, Does.Contain("module 1"));

    [Test]
    public void ObserveBatchStatistics_ReportsTheBatch_AndChangesNoState()
    {
        Rng.ManualSeed(23);
        var norm = new BatchNorm2d(3);
        norm.Eval();
        var x = Tensor.Randn([4, 3, 5, 5], seed: 24) * 2f + 1f;
        double[]? mean = null, variance = null;
        int count = 0;
        using (norm.ObserveBatchStatistics((m, v, n) => (mean, variance, count) = (m.ToArray(), v.ToArray(), n)))
        {
            Assert.That(norm.UsesBatchStatistics, Is.True);
            Tensor y = norm.Forward(x);
            Assert.That(y.ToArray(), Is.EqualTo(x.BatchNorm(norm.Weight, norm.Bias, null, null, training: true).ToArray()), "batch statistics");
        }
        var expected = x.ChannelStatistics();
        Assert.That((mean, variance, count), Is.EqualTo((expected.Mean, expected.BiasedVariance, 100)));
        Assert.That(norm.RunningMean!.ToArray(), Is.EqualTo(new float[3]));
        Assert.That(norm.NumBatchesTracked!.Item(), Is.Zero);
        Assert.That(norm.UsesBatchStatistics, Is.False, "disposing the observer restores the running statistics");
    }
}

[TestFixture]
public class BatchStatisticsObserverTests
{
    [Test]
    public void Observer_IsNotCalled_ForABatchTheLayerRefuses()
    {
        var norm = new BatchNorm1d(3);
        int calls = 0;
        using var observer = norm.ObserveBatchStatistics((_, _, _) => calls++);
        Assert.Throws<ArgumentException>(() => norm.Forward(Tensor.Zeros(1, 3)));   // one value per channel
        Assert.That(calls, Is.Zero);
    }
}
