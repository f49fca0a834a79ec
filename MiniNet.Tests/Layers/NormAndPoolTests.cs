using System.Text.Json;
using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Layers;

/// <summary>GroupNorm, InstanceNorm1d/2d and AdaptiveAvgPool2d against PyTorch 1.13 (Fixtures/norm_pool.json: two
/// training steps with outputs, input and parameter gradients and running statistics, then evaluation), against
/// numerical gradients; Residual blocks; and their errors.</summary>
[TestFixture]
public class NormAndPoolTests
{
    private static readonly Dictionary<string, Func<Module>> Cases = new()
    {
        ["group_norm_2_of_4"] = () => new GroupNorm(2, 4),
        ["group_norm_1_of_6_no_affine"] = () => new GroupNorm(1, 6, affine: false),
        ["group_norm_4_of_4"] = () => new GroupNorm(4, 4, eps: 1e-3f),
        ["instance_norm_2d"] = () => new InstanceNorm2d(3),
        ["instance_norm_2d_affine_tracked"] = () => new InstanceNorm2d(3, affine: true, trackRunningStats: true, momentum: 0.2f),
        ["instance_norm_1d_tracked"] = () => new InstanceNorm1d(2, trackRunningStats: true),
        ["adaptive_avg_pool_3x2"] = () => new AdaptiveAvgPool2d(3, 2),
        ["adaptive_avg_pool_global"] = () => new AdaptiveAvgPool2d(),
        ["adaptive_avg_pool_upsampling"] = () => new AdaptiveAvgPool2d(4, 5),
    };

    private static IEnumerable<string> Names => Cases.Keys;

    [TestCaseSource(nameof(Names))]
    public void TrainingAndEvaluation_MatchPyTorch(string name)
    {
        JsonElement fixture = Fixture.Load("norm_pool.json").GetProperty(name);
        int[] shape = fixture.GetProperty("shape").Ints();
        Module m = Cases[name]();
        var state = m.StateDict();
        foreach (JsonProperty entry in fixture.GetProperty("state").EnumerateObject())
            if (state[entry.Name].DType == DType.Float32) entry.Value.Floats().CopyTo(state[entry.Name].Data);

        foreach (JsonElement step in fixture.GetProperty("train").EnumerateArray())
        {
            Tensor x = Tensor.FromArray(step.GetProperty("x").Floats(), shape);
            x.RequiresGrad = true;
            m.ZeroGrad();
            Tensor y = m.Call(x);
            TensorAssert.Close(y, step.GetProperty("y").Floats(), step.GetProperty("y_shape").Ints(), atol: 2e-5f, rtol: 1e-4f);
            (y * Tensor.FromArray(step.GetProperty("dy").Floats(), [.. y.Shape])).Sum().Backward();
            TensorAssert.Close(x.Grad!, step.GetProperty("dx").Floats(), atol: 2e-5f, rtol: 1e-4f);
            foreach ((string pname, Parameter p) in m.NamedParameters())
                TensorAssert.Close(p.Grad!, step.GetProperty("d" + pname).Floats(), atol: 2e-5f, rtol: 1e-4f);
            foreach (JsonProperty buffer in step.GetProperty("buffers").EnumerateObject())
                TensorAssert.Close(m.StateDict()[buffer.Name].Data, buffer.Value.Floats(), atol: 1e-6f, rtol: 1e-5f, what: buffer.Name);
        }
        m.Eval();
        JsonElement eval = fixture.GetProperty("eval");
        TensorAssert.Close(m.Call(Tensor.FromArray(eval.GetProperty("x").Floats(), shape)).Data, eval.GetProperty("y").Floats(), atol: 2e-5f, rtol: 1e-4f);
    }

    [Test]
    public void InstanceNorm_CountsBatches_AndUsesRunningStatisticsOfOneByOneInputs()
    {
        var norm = new InstanceNorm2d(2, trackRunningStats: true);
        for (int step = 0; step < 3; step++) norm.Call(TestData.Uniform([2, 2, 3, 3], step));
        Assert.That(norm.NumBatchesTracked!.Int64Data[0], Is.EqualTo(3L));
        Assert.That(norm.StateDict()["num_batches_tracked"].DType, Is.EqualTo(DType.Int64));
        norm.Eval();
        // Evaluation with running statistics needs no spatial extent, as in PyTorch.
        Tensor one = TestData.Uniform([4, 2, 1, 1], 9);
        Assert.That(norm.Call(one).Shape, Is.EqualTo(new[] { 4, 2, 1, 1 }));
        Assert.That(() => new InstanceNorm2d(2).Call(one), Throws.ArgumentException, "no running statistics: instance statistics again");
    }

    [Test]
    public void AdaptiveAvgPool2d_Backward_MatchesNumericalGradient()
    {
        TensorAssert.GradientsMatch(v => v[0].AdaptiveAvgPool2d(3, 2), TestData.Uniform([2, 2, 7, 5], 1));
        TensorAssert.GradientsMatch(v => v[0].AdaptiveAvgPool2d(4, 3), TestData.Uniform([1, 1, 3, 2], 2));
    }

    [Test]
    public void Residual_AddsTheShortcut_AndNamesParametersLikePyTorch()
    {
        Rng.ManualSeed(4);
        var body = new Sequential(new Conv2d(3, 8, 3, stride: 2, padding: 1, bias: false), new BatchNorm2d(8), new ReLU(),
            new Conv2d(8, 8, 3, padding: 1, bias: false), new BatchNorm2d(8));
        var shortcut = new Sequential(new Conv2d(3, 8, 1, stride: 2, bias: false), new BatchNorm2d(8));
        var block = new Sequential(new Residual(body, shortcut), new ReLU());
        Tensor x = TestData.Uniform([2, 3, 8, 8], 5);
        Tensor expected = (body.Call(x) + shortcut.Call(x)).Relu();
        TensorAssert.Close(block.Call(x), expected);
        Assert.That(block.StateDict().Keys, Does.Contain("0.body.0.weight").And.Contain("0.shortcut.1.running_mean"));

        var identity = new Residual(new Dense(4, 4));
        Tensor v = TestData.Uniform([3, 4], 6);
        TensorAssert.Close(identity.Call(v), ((Dense)identity.Body).Call(v) + v);
        Assert.That(() => new Residual(new Dense(4, 5)).Call(v), Throws.ArgumentException.With.Message.Contains("(3, 5)").And.Message.Contains("(3, 4)"));
    }

    [Test]
    public void ResNetStyleNet_TrainsAndFreezes_InAFewLines()
    {
        Rng.ManualSeed(7);
        Module Block(int cin, int cout, int stride) => new Sequential(
            new Residual(
                new Sequential(new Conv2d(cin, cout, 3, stride: stride, padding: 1, bias: false), new BatchNorm2d(cout), new ReLU(),
                    new Conv2d(cout, cout, 3, padding: 1, bias: false), new BatchNorm2d(cout)),
                cin == cout && stride == 1 ? null : new Sequential(new Conv2d(cin, cout, 1, stride: stride, bias: false), new BatchNorm2d(cout))),
            new ReLU());
        var net = new Sequential(new Conv2d(3, 8, 3, padding: 1, bias: false), new BatchNorm2d(8), new ReLU(),
            Block(8, 8, 1), Block(8, 16, 2), new AdaptiveAvgPool2d(), new Flatten(), new Dense(16, 4));
        var opt = new MiniNet.Optim.SGD(net.Parameters(), lr: 0.05f, momentum: 0.9f);
        Tensor x = TestData.Uniform([16, 3, 8, 8], 8);
        int[] labels = Enumerable.Range(0, 16).Select(i => i % 4).ToArray();
        float first = 0f, last = 0f;
        for (int step = 0; step < 30; step++)
        {
            opt.ZeroGrad();
            Tensor loss = net.Call(x).CrossEntropy(labels);
            loss.Backward();
            opt.Step();
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.That(last, Is.LessThan(first * 0.5f), $"loss {first} → {last}");
        net.Eval();
        TensorAssert.Close(net.Freeze().Call(x), net.Call(x), atol: 1e-4f, rtol: 1e-4f);
    }

    [Test]
    public void BadArguments_AreRefused()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => new GroupNorm(3, 4), Throws.ArgumentException.With.Message.Contains("3 groups do not divide 4"));
            Assert.That(() => new GroupNorm(2, 4).Call(Tensor.Zeros(2, 6, 3)), Throws.ArgumentException.With.Message.Contains("(2, 6, 3)"));
            Assert.That(() => new InstanceNorm2d(3).Call(Tensor.Zeros(2, 3, 4)), Throws.ArgumentException.With.Message.Contains("(N, 3, L, L)"));
            Assert.That(() => new InstanceNorm1d(3, momentum: 2f), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("momentum"));
            Assert.That(() => new AdaptiveAvgPool2d(0), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => Tensor.Zeros(2, 3, 4).AdaptiveAvgPool2d(2, 2), Throws.ArgumentException.With.Message.Contains("(2, 3, 4)"));
            Assert.That(() => new Residual(null!), Throws.ArgumentNullException);
            Assert.That(() => Tensor.Zeros(2, 3, 0, 4).AdaptiveAvgPool2d(1, 1), Throws.ArgumentException.With.Message.Contains("empty plane"));
            Assert.That(() => new InstanceNorm2d(3).Call(Tensor.Zeros(2, 3, 1, 1)),
                Throws.ArgumentException.With.Message.Contains("more than 1 spatial element").And.Message.Contains("(2, 3, 1, 1)"));
        });
    }
}
