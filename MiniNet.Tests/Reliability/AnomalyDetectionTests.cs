using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Reliability;

[TestFixture]
public class AnomalyDetectionTests
{
    [Test]
    public void Forward_NamesTheFirstOpProducingInfinity()
    {
        Tensor x = Tensor.From(1f, 0f, 2f);
        using (MiniNet.Autograd.DetectAnomaly())
        {
            var ex = Assert.Throws<ArithmeticException>(() => (x * 2f).Log().Exp());
            Assert.That(ex!.Message, Does.Contain("'log' produced -Infinity"));
            Assert.That(ex.Message, Does.Contain("element 1"));
        }
        Assert.DoesNotThrow(() => x.Log(), "outside the scope nothing is checked");
    }

    [Test]
    public void Backward_NamesTheOpWhoseGradientIsNotFinite()
    {
        Tensor x = Tensor.From(0f, 4f);
        x.RequiresGrad = true;
        using (MiniNet.Autograd.DetectAnomaly())
        {
            Tensor y = x.Sqrt().Sum();   // √0 is fine; its derivative 1/(2·√0) is not
            var ex = Assert.Throws<ArithmeticException>(() => y.Backward());
            Assert.That(ex!.Message, Does.Contain("sqrt (backward)"));
        }
    }

    [Test]
    public void NaNInput_IsCaughtAtTheFirstOp()
    {
        Tensor x = TestData.Uniform([2, 3], 1);
        x[1, 2] = float.NaN;
        using (MiniNet.Autograd.DetectAnomaly())
        {
            var ex = Assert.Throws<ArithmeticException>(() => x.MatMul(Tensor.Ones(3, 2)).Relu());
            Assert.That(ex!.Message, Does.Contain("'matmul'").And.Contain("NaN"));
        }
    }

    private static Sequential Mlp()
    {
        Rng.ManualSeed(1);
        var model = new Sequential(new Dense(6, 8, bias: false), new BatchNorm1d(8), new ReLU(), new Dense(8, 3, bias: false), new BatchNorm1d(3), new Sigmoid());
        model.Eval();
        return model;
    }

    private static Sequential Cnn()
    {
        Rng.ManualSeed(2);
        var model = new Sequential(new Conv2d(1, 4, 3, padding: 1, bias: false), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Dense(4 * 4 * 4, 3));
        model.Eval();
        return model;
    }

    /// <summary>Every inference path checks its own steps: the module path (fusion stands aside under anomaly
    /// detection, so each op is checked), the frozen model (its fused steps check their inputs and outputs) and the
    /// fused ops called directly.</summary>
    [Test]
    public void FrozenModel_NaNInput_NamesTheFrozenStep()
    {
        Tensor x = TestData.Uniform([5, 6], 3);
        x[2, 4] = float.NaN;
        FrozenSequential frozen = Mlp().Freeze();
        using (MiniNet.Autograd.NoGrad())
        using (MiniNet.Autograd.DetectAnomaly())
        {
            var ex = Assert.Throws<ArithmeticException>(() => frozen.Forward(x));
            Assert.That(ex!.Message, Does.Contain("FrozenSequential: step 0").And.Contain("modules 0, 1, 2").And.Contain("'linear_affine'").And.Contain("NaN"));
            var module = Assert.Throws<ArithmeticException>(() => Mlp().Forward(x));
            Assert.That(module!.Message, Does.Contain("'linear'"), "the module path under NoGrad: each op on its own");
        }
    }

    [Test]
    public void FrozenModel_InfiniteWeight_IsCaughtThoughTheSigmoidWouldSquashIt()
    {
        Sequential model = Mlp();
        ((Dense)model[3]).Weight[1, 2] = float.PositiveInfinity;
        FrozenSequential frozen = model.Freeze();
        Tensor x = TestData.Uniform([5, 6], 4);
        using (MiniNet.Autograd.NoGrad())
        {
            Assert.DoesNotThrow(() => frozen.Forward(x), "without anomaly detection nothing is checked");
            using (MiniNet.Autograd.DetectAnomaly())
            {
                var ex = Assert.Throws<ArithmeticException>(() => frozen.Forward(x));
                Assert.That(ex!.Message, Does.Contain("step 1").And.Contain("modules 3, 4, 5").And.Contain("was given Infinity in its weight of shape (3, 8)"));
            }
        }
    }

    [Test]
    public void FrozenCnn_NaNInput_NamesTheConvolutionNotThePooling()
    {
        Tensor x = TestData.Uniform([2, 1, 8, 8], 5);
        x[1, 0, 3, 3] = float.NaN;
        FrozenSequential frozen = Cnn().Freeze();
        using (MiniNet.Autograd.NoGrad())
        using (MiniNet.Autograd.DetectAnomaly())
        {
            var ex = Assert.Throws<ArithmeticException>(() => frozen.Forward(x));
            Assert.That(ex!.Message, Does.Contain("step 0").And.Contain("FrozenConv2d").And.Contain("'conv2d_affine'"));
            Assert.That(ex.Message, Does.Not.Contain("max_pool2d"));
        }
    }

    [Test]
    public void FusedOps_CheckTheirInputsAndOutputs()
    {
        Tensor x = TestData.Uniform([4, 3], 6), w = TestData.Uniform([2, 3], 7);
        float[] scale = [1f, 1f], shift = [0f, float.NaN];
        Tensor infinite = x.Clone();
        infinite[0, 0] = float.NegativeInfinity;
        using (MiniNet.Autograd.NoGrad())
        using (MiniNet.Autograd.DetectAnomaly())
        {
            // Sigmoid(−∞) is 0: only the input check sees it.
            var given = Assert.Throws<ArithmeticException>(() => infinite.LinearAffine(w, null, [1f, 1f], [0f, 0f], FusedActivation.Sigmoid));
            Assert.That(given!.Message, Does.Contain("'linear_affine' was given -Infinity in its input of shape (4, 3)"));
            var shiftError = Assert.Throws<ArithmeticException>(() => x.LinearAffine(w, null, scale, shift, FusedActivation.None));
            Assert.That(shiftError!.Message, Does.Contain("its shift"));
            Tensor image = TestData.Uniform([1, 3, 5, 5], 8), kernel = TestData.Uniform([2, 3, 3, 3], 9);
            kernel[1, 2, 0, 0] = float.NaN;
            var conv = Assert.Throws<ArithmeticException>(() => image.Conv2dAffine(kernel, null, [1f, 1f], [0f, 0f], FusedActivation.Relu));
            Assert.That(conv!.Message, Does.Contain("'conv2d_affine' was given NaN in its weight"));
            var packed = Assert.Throws<ArithmeticException>(() => image.Conv2dAffine(PackedWeight.ForConv2d(kernel), null, [1f, 1f], [0f, 0f], FusedActivation.Relu));
            Assert.That(packed!.Message, Does.Contain("'conv2d_affine'"));
        }
    }

    /// <summary>A training step that fails under anomaly detection leaves the running statistics as they were: the
    /// BatchNorm op updates them only once its output has passed the check.</summary>
    [Test]
    public void BatchNorm_FailedStep_LeavesTheRunningStatistics()
    {
        var norm = new BatchNorm1d(3);
        norm.Forward(TestData.Uniform([8, 3], 10));
        float[] mean = norm.RunningMean!.ToArray(), variance = norm.RunningVar!.ToArray();
        long batches = norm.StateDict()["num_batches_tracked"].ToInt64Array()[0];
        Tensor x = TestData.Uniform([8, 3], 11);
        x[4, 1] = float.PositiveInfinity;
        using (MiniNet.Autograd.DetectAnomaly())
            Assert.Throws<ArithmeticException>(() => norm.Forward(x));
        Assert.That(norm.RunningMean!.ToArray(), Is.EqualTo(mean));
        Assert.That(norm.RunningVar!.ToArray(), Is.EqualTo(variance));
        Assert.That(norm.StateDict()["num_batches_tracked"].ToInt64Array()[0], Is.EqualTo(batches));
    }
}
