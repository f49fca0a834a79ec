using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Layers;

[TestFixture]
public class BatchRenormTests
{
    [Test]
    public void FirstBatch_IsPlainBatchNorm_AndRunningStatisticsFollowBatchNorm()
    {
        var renorm = new BatchRenorm1d(4, warmupSteps: 100);
        var norm = new BatchNorm1d(4);
        for (int step = 0; step < 3; step++)
        {
            Tensor x = TestData.Uniform([8, 4], step, -2f, 3f);
            Tensor a = renorm.Forward(x), b = norm.Forward(x);
            if (step == 0) TensorAssert.Close(a, b, atol: 1e-5f);   // r_max = 1, d_max = 0 at the start of the ramp
        }
        TensorAssert.Close(renorm.RunningMean.Data, norm.RunningMean!.Data, atol: 1e-6f);
        TensorAssert.Close(renorm.RunningVar.Data, norm.RunningVar!.Data, atol: 1e-6f);
        Assert.That(renorm.NumBatchesTracked.Item(), Is.EqualTo(3f));
    }

    [Test]
    public void Bounds_RampOverTheWarmup()
    {
        var layer = new BatchRenorm1d(2, rMax: 3f, dMax: 5f, warmupSteps: 4);
        Assert.That(layer.CurrentBounds, Is.EqualTo((1f, 0f)));
        layer.Forward(TestData.Uniform([4, 2], 1));
        layer.Forward(TestData.Uniform([4, 2], 2));
        Assert.That(layer.CurrentBounds.RMax, Is.EqualTo(2f).Within(1e-6f));
        Assert.That(layer.CurrentBounds.DMax, Is.EqualTo(2.5f).Within(1e-6f));
    }

    [Test]
    public void Training_UsesClippedCorrection_AndEvalUsesRunningStatistics()
    {
        var layer = new BatchRenorm1d(1, rMax: 2f, dMax: 0.5f, warmupSteps: 0, momentum: 1e-6f);
        layer.RunningMean.Data[0] = 10f;   // far away: d is clipped to +0.5... −0.5
        layer.RunningVar.Data[0] = 100f;   // σ = 10: r = σ_B/10 is clipped to 1/2
        Tensor x = Tensor.FromArray([0f, 2f, 4f, 6f], 4, 1);
        float mu = 3f, sd = MathF.Sqrt(5f + 1e-5f);
        Tensor y = layer.Forward(x);
        TensorAssert.Close(y.Data, x.ToArray().Select(v => (v - mu) / sd * 0.5f - 0.5f).ToArray(), atol: 1e-4f);
        layer.Eval();
        float sigma = MathF.Sqrt(layer.RunningVar[0] + 1e-5f);
        TensorAssert.Close(layer.Forward(x).Data, x.ToArray().Select(v => (v - layer.RunningMean[0]) / sigma).ToArray(), atol: 1e-4f);
    }

    [TestCase(new[] { 6, 3 })]
    [TestCase(new[] { 3, 2, 2, 2 })]
    public void Gradients_MatchNumerical_WithRAndDHeldConstant(int[] shape)
    {
        // Saturated r and d are locally constant, so finite differences see exactly the stop-gradient function.
        BatchRenorm layer = shape.Length == 2 ? new BatchRenorm1d(shape[1], rMax: 1.5f, dMax: 0.5f, warmupSteps: 0, momentum: 1e-7f)
                                              : new BatchRenorm2d(shape[1], rMax: 1.5f, dMax: 0.5f, warmupSteps: 0, momentum: 1e-7f);
        layer.RunningMean.Data.Fill(100f);   // d ≈ −1, clipped to −0.5
        layer.RunningVar.Data.Fill(1e4f);
        layer.Weight.CopyFrom(TestData.Uniform([shape[1]], 1, 0.5f, 1.5f));
        TensorAssert.GradientsMatch(v => layer.Forward(v[0]), TestData.Uniform(shape, 2));
    }

    [Test]
    public void BadInput_AndArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => new BatchRenorm2d(3).Forward(Tensor.Zeros(2, 3)));
        Assert.Throws<ArgumentException>(() => new BatchRenorm1d(3).Forward(Tensor.Zeros(1, 3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BatchRenorm1d(3, rMax: 0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BatchRenorm1d(3, dMax: -1f));
    }
}

[TestFixture]
public class InstrumentTests
{
    [Test]
    public void ForwardHook_SeesInputAndOutput_AndIsRemovable()
    {
        var relu = new ReLU();
        var model = new Sequential(new Dense(3, 4), relu);
        var seen = new List<(Module, float[], float[])>();
        IDisposable handle = relu.RegisterForwardHook((m, x, y) => seen.Add((m, x.ToArray(), y.ToArray())));
        Tensor input = TestData.Uniform([2, 3], 1);
        Tensor output = model.Forward(input);
        Assert.That(seen, Has.Count.EqualTo(1));
        Assert.That(seen[0].Item1, Is.SameAs(relu));
        Assert.That(seen[0].Item3, Is.EqualTo(output.ToArray()));
        Assert.That(seen[0].Item2.Select(v => MathF.Max(v, 0)), Is.EqualTo(output.ToArray()));
        handle.Dispose();
        model.Forward(input);
        Assert.That(seen, Has.Count.EqualTo(1), "a removed hook no longer runs");
        relu.Forward(input);
        Assert.That(seen, Has.Count.EqualTo(1), "Forward itself runs no hooks; Call does");
    }

    [Test]
    public void BatchNormProbe_ReportsShiftAndRatio_WithoutChangingTheModel()
    {
        var model = new Sequential(new Dense(3, 2, bias: false), new BatchNorm1d(2), new ReLU());
        var bn = (BatchNorm1d)model[1];
        bn.RunningMean!.Data.Fill(0f);
        bn.RunningVar!.Data.Fill(4f - 1e-5f);   // σ_running = 2
        Tensor x = TestData.Uniform([16, 3], 2);
        float[] before = bn.RunningMean.ToArray();
        IReadOnlyList<BatchNormDrift> drift = BatchNormProbe.Measure(model, x);
        Assert.That(drift, Has.Count.EqualTo(1));
        Assert.That(drift[0].Layer, Is.EqualTo("1"));
        Tensor h;
        using (MiniNet.Autograd.NoGrad()) h = ((Dense)model[0]).Forward(x);
        double[] mu = [.. Enumerable.Range(0, 2).Select(c => Enumerable.Range(0, 16).Average(i => (double)h[i, c]))];
        double[] sd = [.. Enumerable.Range(0, 2).Select(c => Math.Sqrt(Enumerable.Range(0, 16).Average(i => Math.Pow(h[i, c] - mu[c], 2))))];
        Assert.That(drift[0].MeanShift, Is.EqualTo((Math.Abs(mu[0]) + Math.Abs(mu[1])) / 2 / 2).Within(1e-5));
        Assert.That(drift[0].StdRatio, Is.EqualTo((sd[0] + sd[1]) / 2 / 2).Within(1e-5));
        Assert.That(bn.RunningMean.ToArray(), Is.EqualTo(before));
        Assert.That(bn.NumBatchesTracked!.Item(), Is.EqualTo(0f));
        Assert.That(model.Training, Is.True, "the training mode is restored");
    }
}

[TestFixture]
public class ActivationMonitorTests
{
    [Test]
    public void RecordsPercentilesOfOneUnit_EveryKTrainingSteps()
    {
        var sigmoid = new Sigmoid();
        var model = new Sequential(new Dense(4, 3), sigmoid);
        using var monitor = new ActivationMonitor(3, 15, 50, 85);
        monitor.Watch("last sigmoid input", sigmoid, ActivationSide.Input, unit: 1);
        Tensor x = TestData.Uniform([21, 4], 1);
        for (int step = 1; step <= 7; step++)
        {
            monitor.Step();
            model.Forward(x);
            model.Forward(x);   // a second pass in the same step is not recorded twice
        }
        model.Eval();
        monitor.Step();
        model.Forward(x);       // step 8: not a recording step; eval passes are never recorded
        Assert.That(monitor.Records.Select(r => r.Step).Distinct(), Is.EqualTo(new[] { 1, 3, 6 }));
        Assert.That(monitor.Records.Count, Is.EqualTo(9));

        Tensor h;
        using (MiniNet.Autograd.NoGrad()) h = ((Dense)model[0]).Forward(x);
        double[] column = Enumerable.Range(0, 21).Select(i => (double)h[i, 1]).Order().ToArray();
        var median = monitor.Records.First(r => r.Step == 6 && r.Percentile == 50);
        Assert.That(median.Value, Is.EqualTo(column[10]).Within(1e-6));
        var p15 = monitor.Records.First(r => r.Step == 6 && r.Percentile == 15);
        Assert.That(p15.Value, Is.EqualTo(column[3]).Within(1e-6));   // 0.15 · 20 = 3 exactly
    }

    [Test]
    public void Percentile_InterpolatesLikeNumPy()
    {
        Assert.That(ActivationMonitor.Percentile([1, 2, 3, 4], 50), Is.EqualTo(2.5));
        Assert.That(ActivationMonitor.Percentile([1, 2, 3, 4], 0), Is.EqualTo(1));
        Assert.That(ActivationMonitor.Percentile([1, 2, 3, 4], 100), Is.EqualTo(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ActivationMonitor(0, 50));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ActivationMonitor(1, 101));
    }
}
