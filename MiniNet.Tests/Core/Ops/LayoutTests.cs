using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Ops;

[TestFixture]
public class LayoutTests
{
    [Test]
    public void Reshape_InfersMinusOne_AndSharesStorage()
    {
        Tensor x = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        Tensor y = x.Reshape(3, -1);
        Assert.That(y.Shape, Is.EqualTo(new[] { 3, 2 }));
        Assert.That(y.ToArray(), Is.EqualTo(x.ToArray()));
        x.Data[0] = 10f;
        Assert.That(y[0, 0], Is.EqualTo(10f));
    }

    [Test]
    public void Reshape_WrongCount_ThrowsNamingShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Reshape(4, 2));
        Assert.That(ex!.Message, Does.Contain("(2, 3)").And.Contain("(4, 2)"));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Reshape(-1, -1));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Reshape(4, -1));
    }

    [Test]
    public void Flatten_MergesTrailingDimensions()
    {
        Tensor x = Tensor.Zeros(2, 3, 4, 5);
        Assert.That(x.Flatten().Shape, Is.EqualTo(new[] { 120 }));
        Assert.That(x.Flatten(1).Shape, Is.EqualTo(new[] { 2, 60 }));
        Assert.That(x.Flatten(1, 2).Shape, Is.EqualTo(new[] { 2, 12, 5 }));
    }

    [Test]
    public void Transpose2D_SwapsRowsAndColumns()
    {
        Tensor x = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        TensorAssert.Close(x.T(), [1, 4, 2, 5, 3, 6], [3, 2]);
        TensorAssert.Close(x.Transpose(-1, 0), [1, 4, 2, 5, 3, 6], [3, 2]);
    }

    [TestCase(new[] { 2, 3, 4 }, new[] { 2, 0, 1 })]
    [TestCase(new[] { 2, 3, 4 }, new[] { 1, 0, 2 })]
    [TestCase(new[] { 3, 1, 2, 5 }, new[] { 3, 1, 0, 2 })]
    [TestCase(new[] { 7 }, new[] { 0 })]
    public void Permute_MatchesIndexReference(int[] shape, int[] perm)
    {
        Tensor x = TestData.Uniform(shape, 1);
        Tensor y = x.Permute(perm);
        var expected = new float[x.Numel];
        MiniNet.Kernels.Reference.LayoutReference.Permute(x.ToArray(), shape, perm, expected);
        TensorAssert.Close(y, expected, perm.Select(p => shape[p]).ToArray(), atol: 0, rtol: 0);
    }

    [Test]
    public void LayoutOps_GradientsMatchNumerical()
    {
        Tensor x = TestData.Uniform([2, 3, 4], 2);
        TensorAssert.GradientsMatch(v => v[0].Reshape(4, 6), x);
        TensorAssert.GradientsMatch(v => v[0].Flatten(1), x);
        TensorAssert.GradientsMatch(v => v[0].Permute(2, 0, 1), x);
        TensorAssert.GradientsMatch(v => v[0].Transpose(0, 2), x);
        TensorAssert.GradientsMatch(v => v[0].Reshape(6, 4).T().Exp(), x);
    }

    [Test]
    public void Permute_NotAPermutation_Throws()
    {
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Permute(0, 0));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Permute(0));
    }
}
