using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Ops;

/// <summary>LeakyReLU, ELU, GELU, SiLU, Softplus, Clamp, Sign and Rsqrt against PyTorch 1.13 (Fixtures/activations.json: values and
/// input gradients at zero, both signs of tiny values, the tails and beyond Softplus's threshold), and against
/// numerical gradients.</summary>
[TestFixture]
public class ActivationTests
{
    private static readonly (string Name, Func<Tensor, Tensor> Op)[] Cases =
    [
        ("leaky_relu", x => x.LeakyRelu()), ("leaky_relu_0.2", x => x.LeakyRelu(0.2f)),
        ("elu", x => x.Elu()), ("elu_0.5", x => x.Elu(0.5f)),
        ("gelu", x => x.Gelu()), ("gelu_tanh", x => x.Gelu("tanh")),
        ("silu", x => x.Silu()),
        ("softplus", x => x.Softplus()), ("softplus_2_5", x => x.Softplus(2f, 5f)),
        ("clamp_-1_2", x => x.Clamp(-1f, 2f)), ("clamp_min_0.5", x => x.Clamp(min: 0.5f)),
        ("clamp_max_-0.5", x => x.Clamp(max: -0.5f)), ("clamp_5_-1", x => x.Clamp(5f, -1f)),
        ("sign", x => x.Sign()), ("rsqrt_abs", x => (x.Abs() + 0.1f).Rsqrt()),
    ];

    private static IEnumerable<string> Names => Cases.Select(c => c.Name);

    [TestCaseSource(nameof(Names))]
    public void ValuesAndGradients_MatchPyTorch(string name)
    {
        var fixture = Fixture.Load("activations.json");
        float[] xs = fixture.GetProperty("x").Floats(), dys = fixture.GetProperty("dy").Floats();
        var expected = fixture.GetProperty(name);
        Tensor x = Tensor.From(xs);
        x.RequiresGrad = true;
        Tensor y = Cases.Single(c => c.Name == name).Op(x);
        TensorAssert.Close(y, expected.GetProperty("y").Floats(), atol: 1e-6f, rtol: 2e-6f);
        (y * Tensor.From(dys)).Sum().Backward();
        TensorAssert.Close(x.Grad!, expected.GetProperty("dx").Floats(), atol: 1e-6f, rtol: 2e-6f);
    }

    [TestCaseSource(nameof(Names))]
    public void Backward_RandomInput_MatchesNumericalGradient(string name)
    {
        Tensor x = TestData.AwayFromZero([3, 7], 5);
        TensorAssert.GradientsMatch(v => Cases.Single(c => c.Name == name).Op(v[0]), x);
    }

    [Test]
    public void Clamp_KeepsNaN_AndSign_KeepsSignedZero()
    {
        Assert.That(float.IsNaN(Tensor.From(float.NaN).Clamp(-1f, 1f).Item()));
        Assert.That(Tensor.From(float.PositiveInfinity).Clamp(max: 3f).Item(), Is.EqualTo(3f));
        Assert.That(float.IsNegative(Tensor.From(-0f).Sign().Item()) && Tensor.From(-0f).Sign().Item() == 0f);
    }

    [Test]
    public void Gradients_Accumulate_IntoAnExistingGradient()
    {
        Tensor x = TestData.AwayFromZero([4, 5], 3);
        x.RequiresGrad = true;
        (x.Gelu() + x.Silu()).Sum().Backward();
        float[] both = x.Grad!.ToArray();
        x.Grad = null;
        x.Gelu().Sum().Backward();
        float[] gelu = x.Grad!.ToArray();
        x.Grad = null;
        x.Silu().Sum().Backward();
        TensorAssert.Close(both, gelu.Zip(x.Grad!.ToArray(), (a, b) => a + b).ToArray());
    }

    [Test]
    public void ExtremeInputs_StayFinite_AndSaturateAsPyTorchDoes()
    {
        Tensor x = Tensor.From(-1e4f, -100f, 100f, 1e4f);
        Assert.Multiple(() =>
        {
            Assert.That(x.Softplus().ToArray(), Is.EqualTo(new[] { 0f, 0f, 100f, 1e4f }).Within(1e-6f));
            Assert.That(x.Softplus(beta: 0.5f, threshold: 1e6f).ToArray(), Is.EqualTo(new[] { 0f, 0f, 100f, 1e4f }).Within(1e-3f));
            Assert.That(x.Elu().ToArray(), Is.EqualTo(new[] { -1f, -1f, 100f, 1e4f }));
            Assert.That(x.Silu().ToArray(), Is.EqualTo(new[] { -0f, -0f, 100f, 1e4f }).Within(1e-6f));
            Assert.That(x.Gelu().ToArray(), Is.EqualTo(new[] { 0f, 0f, 100f, 1e4f }));
            Assert.That(x.Gelu("tanh").ToArray(), Is.EqualTo(new[] { 0f, 0f, 100f, 1e4f }));
        });
    }

    [Test]
    public void BadArguments_NameTheArgument()
    {
        Tensor x = Tensor.From(1f);
        Assert.Multiple(() =>
        {
            Assert.That(() => x.Gelu("erf"), Throws.ArgumentException.With.Property("ParamName").EqualTo("approximate")
                .And.Message.Contains("erf"));
            Assert.That(() => x.LeakyRelu(float.NaN), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("negativeSlope"));
            Assert.That(() => x.Elu(float.PositiveInfinity), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("alpha"));
            Assert.That(() => x.Softplus(beta: 0f), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("beta"));
            Assert.That(() => x.Softplus(threshold: float.NaN), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("threshold"));
            Assert.That(() => x.Clamp(), Throws.ArgumentException.With.Property("ParamName").EqualTo("min"));
            Assert.That(() => x.Clamp(max: float.NaN), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("max"));
            Assert.That(() => new GELU("exact"), Throws.ArgumentException.With.Property("ParamName").EqualTo("approximate"));
            Assert.That(() => new LeakyReLU(float.NaN), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("negativeSlope"));
            Assert.That(() => new ELU(float.NaN), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("alpha"));
            Assert.That(() => new Softplus(beta: -1f), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("beta"));
        });
    }

    [Test]
    public void Modules_EqualTheirOps_AndDescribeTheirSettings()
    {
        Tensor x = TestData.Uniform([6, 4], 9, -3f, 3f);
        var cases = new (Module Module, Tensor Expected, string Text)[]
        {
            (new LeakyReLU(0.2f), x.LeakyRelu(0.2f), "LeakyReLU(negativeSlope: 0.2)"),
            (new ELU(0.5f), x.Elu(0.5f), "ELU(alpha: 0.5)"),
            (new GELU("tanh"), x.Gelu("tanh"), "GELU(approximate: \"tanh\")"),
            (new SiLU(), x.Silu(), "SiLU"),
            (new Softplus(2f, 5f), x.Softplus(2f, 5f), "Softplus(beta: 2, threshold: 5)"),
            (new MiniNet.Layers.Softmax(0), x.Softmax(0), "Softmax(dim: 0)"),
            (new MiniNet.Layers.LogSoftmax(), x.LogSoftmax(), "LogSoftmax(dim: -1)"),
            (new Identity(), x, "Identity"),
        };
        foreach (var (module, expected, text) in cases)
        {
            Assert.That(module.Forward(x).ToArray(), Is.EqualTo(expected.ToArray()), text);
            Assert.That(module.ToString(), Does.StartWith(text));
        }
    }

    [Test]
    public void NewActivations_TrainInsideABnDnn_AndFreezeToTheSameOutputs()
    {
        Rng.ManualSeed(3);
        var model = new Sequential(
            new Dense(8, 16, bias: false), new BatchNorm1d(16), new GELU(),
            new Dense(16, 16, bias: false), new BatchNorm1d(16), new SiLU(),
            new Dense(16, 16, bias: false), new BatchNorm1d(16), new LeakyReLU(0.1f), new Identity(),
            new Dense(16, 3));
        var optimizer = new MiniNet.Optim.SGD(model.Parameters(), lr: 0.1f, momentum: 0.9f);
        Tensor x = TestData.Uniform([32, 8], 4);
        int[] y = Enumerable.Range(0, 32).Select(i => i % 3).ToArray();
        float first = 0, last = 0;
        for (int step = 0; step < 40; step++)
        {
            optimizer.ZeroGrad();
            Tensor loss = model.Forward(x).CrossEntropy(y);
            loss.Backward();
            optimizer.Step();
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.That(last, Is.LessThan(first * 0.5f), "the loss falls");
        model.Eval();
        using (MiniNet.Autograd.NoGrad())
            TensorAssert.Close(model.Freeze().Forward(x), model.Forward(x).ToArray(), atol: 1e-5f, rtol: 1e-5f);
    }
}
