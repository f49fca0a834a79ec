using CustomLayer;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Samples;

/// <summary>The extension sample's op and blocks, checked with the public GradCheck helper.</summary>
[TestFixture]
public class CustomLayerTests
{
    [Test]
    public void SwishOp_MatchesClosedForm_AndGradCheck()
    {
        Tensor x = Tensor.From(-2f, 0f, 1.5f);
        TensorAssert.Close(x.Swish(), x.ToArray().Select(v => v / (1f + MathF.Exp(-v))).ToArray(), atol: 1e-6f);
        TensorAssert.GradientsMatch(v => v[0].Swish(), TestData.Uniform([4, 5], 1, -3f, 3f));
    }

    [Test]
    public void SwishOp_EqualsCompositeOfPrimitives()
    {
        Tensor a = TestData.Uniform([3, 4], 2), b = a.Clone();
        a.RequiresGrad = true;
        b.RequiresGrad = true;
        Tensor r = TestData.Uniform([3, 4], 3);
        a.Swish().Backward(r);
        (b * b.Sigmoid()).Backward(r);
        TensorAssert.Close(a.Grad!, b.Grad!, atol: 1e-6f);
    }

    [Test]
    public void ResidualBlock_GradientsMatch_AndStateDictNamesItsChildren()
    {
        Rng.ManualSeed(4);
        var block = new ResidualBlock(5);
        TensorAssert.GradientsMatch(v => block.Forward(v[0]), TestData.Uniform([6, 5], 5));
        Assert.That(block.StateDict().Keys, Does.Contain("fc1.weight").And.Contain("bn2.running_var"));
        Assert.That(block.Parameters().Count(), Is.EqualTo(6));
    }
}
