using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Layers;

[TestFixture]
public class LayerTests
{
    [Test]
    public void Dense_EqualsMatMulWithTransposedWeightPlusBias()
    {
        var layer = new Dense(5, 3, generator: Rng.Create(1));
        Tensor x = TestData.Uniform([4, 5], 2);
        Tensor expected = x.MatMul(layer.Weight.T()) + layer.Bias!;
        TensorAssert.Close(layer.Forward(x), expected, atol: 1e-6f);
        Assert.That(layer.Weight.Shape, Is.EqualTo(new[] { 3, 5 }));
    }

    [Test]
    public void Dense_InitialisationStaysWithinPyTorchBounds()
    {
        var layer = new Dense(400, 300, generator: Rng.Create(3));
        float bound = 1f / MathF.Sqrt(400);
        float[] w = layer.Weight.ToArray();
        Assert.That(w, Is.All.InRange(-bound, bound));
        Assert.That(w.Max(), Is.GreaterThan(0.95f * bound));   // fills the interval
        Assert.That(layer.Bias!.ToArray(), Is.All.InRange(-bound, bound));
        Assert.That(new Dense(4, 2, bias: false).Bias, Is.Null);
        Assert.That(new Dense(4, 2, bias: false).StateDict().Keys, Is.EqualTo(new[] { "weight" }));
    }

    [Test]
    public void Linear_GradientsMatchNumerical_AndEqualComposite()
    {
        TensorAssert.GradientsMatch(v => v[0].Linear(v[1], v[2]), TestData.Uniform([4, 5], 4), TestData.Uniform([3, 5], 5), TestData.Uniform([3], 6));
        TensorAssert.GradientsMatch(v => v[0].Linear(v[1]), TestData.Uniform([2, 3, 5], 7), TestData.Uniform([3, 5], 8));
        var layer = new Dense(5, 3);
        TensorAssert.GradientsMatch(v => layer.Forward(v[0]), TestData.Uniform([4, 5], 9));
    }

    [Test]
    public void Dense_WrongInputShape_ThrowsTheDocumentedMessage()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Dense(784, 10).Forward(Tensor.Zeros(32, 28, 28)));
        Assert.That(ex!.Message, Is.EqualTo("Dense expects x of shape (N, 784), got (32, 28, 28). (Parameter 'x')"));
        Assert.That(ex.ParamName, Is.EqualTo("x"));
    }

    [Test]
    public void Conv2dLayer_MatchesOp_AndChecksChannels()
    {
        var layer = new Conv2d(2, 4, 3, stride: 2, padding: 1, generator: Rng.Create(10));
        Tensor x = TestData.Uniform([2, 2, 7, 7], 11);
        TensorAssert.Close(layer.Forward(x), x.Conv2d(layer.Weight, layer.Bias, 2, 1));
        Assert.That(layer.Forward(x).Shape, Is.EqualTo(new[] { 2, 4, 4, 4 }));
        float bound = 1f / MathF.Sqrt(2 * 9);
        Assert.That(layer.Weight.ToArray(), Is.All.InRange(-bound, bound));
        var ex = Assert.Throws<ArgumentException>(() => layer.Forward(Tensor.Zeros(1, 3, 7, 7)));
        Assert.That(ex!.Message, Does.Contain("(N, 2, H, W)").And.Contain("(1, 3, 7, 7)"));
        TensorAssert.GradientsMatch(v => layer.Forward(v[0]), TestData.Uniform([1, 2, 5, 5], 12));
    }

    [Test]
    public void Activations_AndShapeLayers_ApplyTheirOps()
    {
        Tensor x = TestData.AwayFromZero([2, 3, 4, 4], 13);
        TensorAssert.Close(new ReLU().Forward(x), x.Relu());
        TensorAssert.Close(new Sigmoid().Forward(x), x.Sigmoid());
        TensorAssert.Close(new Tanh().Forward(x), x.Tanh());
        Assert.That(new Flatten().Forward(x).Shape, Is.EqualTo(new[] { 2, 48 }));
        Assert.That(new MaxPool2d(2).Forward(x).Shape, Is.EqualTo(new[] { 2, 3, 2, 2 }));
        Assert.That(new AvgPool2d(3, 1, 1).Forward(x).Shape, Is.EqualTo(new[] { 2, 3, 4, 4 }));
        foreach (Module m in new Module[] { new ReLU(), new Sigmoid(), new Tanh(), new Flatten(), new MaxPool2d(2), new AvgPool2d(2) })
            TensorAssert.GradientsMatch(v => m.Forward(v[0]), TestData.Distinct([1, 2, 4, 4], 14));
    }

    [Test]
    public void Dropout_FollowsTrainingMode()
    {
        var layer = new Dropout(0.5f, Rng.Create(15));
        Tensor x = Tensor.Ones(1000);
        Assert.That(layer.Forward(x).ToArray(), Has.Some.EqualTo(0f));
        layer.Eval();
        Assert.That(layer.Forward(x), Is.SameAs(x));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Dropout(-0.1f));
    }

    [Test]
    public void LayerNorm_NormalisesEachSample_AndMatchesHandComputation()
    {
        var layer = new LayerNorm(4);
        Tensor x = Tensor.FromArray([1, 2, 3, 4, 10, 10, 10, 14], 2, 4);
        Tensor y = layer.Forward(x);
        float s0 = MathF.Sqrt(1.25f + 1e-5f), s1 = MathF.Sqrt(3f + 1e-5f);
        TensorAssert.Close(y, [-1.5f / s0, -0.5f / s0, 0.5f / s0, 1.5f / s0, -1 / s1, -1 / s1, -1 / s1, 3 / s1], [2, 4], atol: 1e-5f);
        Assert.That(layer.StateDict().Keys, Is.EqualTo(new[] { "weight", "bias" }));
    }

    [Test]
    public void LayerNorm_GradientsMatchNumerical()
    {
        var layer = new LayerNorm([3, 2]);
        layer.Weight!.CopyFrom(TestData.Uniform([3, 2], 16, 0.5f, 1.5f));
        TensorAssert.GradientsMatch(v => layer.Forward(v[0]), TestData.Uniform([4, 3, 2], 17));
        var ex = Assert.Throws<ArgumentException>(() => layer.Forward(Tensor.Zeros(4, 2, 3)));
        Assert.That(ex!.Message, Does.Contain("(…, 3, 2)").And.Contain("(4, 2, 3)"));
    }

    [Test]
    public void Losses_ComputeMeans_AndRejectBadInput()
    {
        Tensor logits = TestData.Uniform([3, 4], 18);
        Assert.That(new CrossEntropyLoss().Forward(logits, [0, 1, 3]).Item(), Is.EqualTo(logits.CrossEntropy([0, 1, 3]).Item()));
        var ex = Assert.Throws<ArgumentException>(() => new CrossEntropyLoss().Forward(logits, [0, 4, 1]));
        Assert.That(ex!.Message, Does.Contain("label 4"));
        Tensor p = Tensor.From(1f, 2f, 3f), t = Tensor.From(1f, 0f, 0f);
        Assert.That(new MSELoss().Forward(p, t).Item(), Is.EqualTo((0f + 4f + 9f) / 3f).Within(1e-6f));
        Assert.Throws<ArgumentException>(() => new MSELoss().Forward(p, Tensor.Zeros(3, 1)));
        TensorAssert.GradientsMatch(v => new MSELoss().Forward(v[0], v[1]), TestData.Uniform([2, 3], 19), TestData.Uniform([2, 3], 20));
    }
}
