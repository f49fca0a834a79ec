using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Ops;

[TestFixture]
public class UnaryTests
{
    [Test]
    public void Forward_KnownValues_MatchMathF()
    {
        float[] v = [-2f, -0.5f, 0.25f, 3f];
        Tensor x = Tensor.From(v);
        TensorAssert.Close(x.Neg(), v.Select(a => -a).ToArray());
        TensorAssert.Close(x.Exp(), v.Select(MathF.Exp).ToArray(), rtol: 1e-6f);
        TensorAssert.Close(x.Abs(), v.Select(MathF.Abs).ToArray());
        TensorAssert.Close(x.Relu(), v.Select(a => MathF.Max(a, 0)).ToArray());
        TensorAssert.Close(x.Sigmoid(), v.Select(a => 1f / (1f + MathF.Exp(-a))).ToArray(), rtol: 1e-6f);
        TensorAssert.Close(x.Tanh(), v.Select(MathF.Tanh).ToArray(), rtol: 1e-6f);
        TensorAssert.Close(x.Pow(3f), v.Select(a => a * a * a).ToArray(), rtol: 1e-6f);
        TensorAssert.Close(x.Square(), v.Select(a => a * a).ToArray());
        Tensor positive = x.Abs();
        TensorAssert.Close(positive.Log(), v.Select(a => MathF.Log(MathF.Abs(a))).ToArray(), rtol: 1e-6f);
        TensorAssert.Close(positive.Sqrt(), v.Select(a => MathF.Sqrt(MathF.Abs(a))).ToArray(), rtol: 1e-6f);
        TensorAssert.Close(positive.Pow(-1.5f), v.Select(a => MathF.Pow(MathF.Abs(a), -1.5f)).ToArray(), rtol: 1e-5f);
    }

    private static readonly (string Name, Func<Tensor, Tensor> Op, bool PositiveOnly)[] Cases =
    [
        ("neg", x => x.Neg(), false), ("exp", x => x.Exp(), false), ("log", x => x.Log(), true),
        ("sqrt", x => x.Sqrt(), true), ("abs", x => x.Abs(), false), ("pow2", x => x.Pow(2f), false),
        ("pow2.5", x => x.Pow(2.5f), true), ("pow-1", x => x.Pow(-1f), true), ("relu", x => x.Relu(), false),
        ("sigmoid", x => x.Sigmoid(), false), ("tanh", x => x.Tanh(), false),
    ];

    [TestCase("neg"), TestCase("exp"), TestCase("log"), TestCase("sqrt"), TestCase("abs"), TestCase("pow2"),
     TestCase("pow2.5"), TestCase("pow-1"), TestCase("relu"), TestCase("sigmoid"), TestCase("tanh")]
    public void Backward_RandomInput_MatchesNumericalGradient(string name)
    {
        var c = Cases.Single(c => c.Name == name);
        Tensor x = c.PositiveOnly ? TestData.Uniform([3, 5], 1, 0.5f, 2f) : TestData.AwayFromZero([3, 5], 1);
        TensorAssert.GradientsMatch(v => c.Op(v[0]), x);
    }

    [Test]
    public void Relu_GradientAtZero_IsZero()
    {
        var x = Tensor.From(0f, 1f);
        x.RequiresGrad = true;
        x.Relu().Sum().Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new float[] { 0, 1 }));
    }

    [Test]
    public void Sigmoid_LargeInputs_StayFinite()
    {
        Tensor y = Tensor.From(-100f, 100f).Sigmoid();
        Assert.That(y.ToArray(), Is.EqualTo(new float[] { 0, 1 }).Within(1e-6f));
    }
}
