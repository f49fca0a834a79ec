using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Ops;

[TestFixture]
public class ReduceTests
{
    private static readonly Tensor X = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);

    [Test]
    public void Sum_AllAndAxes_MatchHandSums()
    {
        Assert.That(X.Sum().Item(), Is.EqualTo(21f));
        Assert.That(X.Sum().Rank, Is.EqualTo(0));
        TensorAssert.Close(X.Sum(0), [5, 7, 9], [3]);
        TensorAssert.Close(X.Sum(1), [6, 15], [2]);
        TensorAssert.Close(X.Sum(-1, keepDim: true), [6, 15], [2, 1]);
        TensorAssert.Close(X.Sum([0, 1]), [21], []);
    }

    [Test]
    public void Sum_MiddleAxisOf3D_MatchesLoop()
    {
        Tensor x = TestData.Uniform([2, 3, 4], 1);
        Tensor s = x.Sum(1);
        var expected = new float[8];
        for (int a = 0; a < 2; a++) for (int b = 0; b < 3; b++) for (int c = 0; c < 4; c++) expected[a * 4 + c] += x[a, b, c];
        TensorAssert.Close(s, expected, [2, 4]);
    }

    [Test]
    public void MeanAndVar_MatchMathNetStatistics()
    {
        Tensor x = TestData.Uniform([4, 5], 2);
        double[] all = x.ToArray().Select(v => (double)v).ToArray();
        Assert.That(x.Mean().Item(), Is.EqualTo(MathNet.Numerics.Statistics.Statistics.Mean(all)).Within(1e-6));
        Assert.That(x.Var().Item(), Is.EqualTo(MathNet.Numerics.Statistics.Statistics.Variance(all)).Within(1e-5));
        Assert.That(x.Var(unbiased: false).Item(), Is.EqualTo(MathNet.Numerics.Statistics.Statistics.PopulationVariance(all)).Within(1e-5));
        Tensor colVar = x.Var(0, unbiased: false);
        for (int j = 0; j < 5; j++)
        {
            double[] col = Enumerable.Range(0, 4).Select(i => (double)x[i, j]).ToArray();
            Assert.That(colVar[j], Is.EqualTo(MathNet.Numerics.Statistics.Statistics.PopulationVariance(col)).Within(1e-5));
        }
        Assert.That(x.Mean([0, 1], keepDim: true).Shape, Is.EqualTo(new[] { 1, 1 }));
    }

    [Test]
    public void Max_ValuesAndIndices_PerAxis()
    {
        var x = Tensor.FromArray([1, 9, 3, 7, 5, 6], 2, 3);
        var (values, indices) = x.Max(1);
        TensorAssert.Close(values, [9, 7], [2]);
        Assert.That(indices, Is.EqualTo(new[] { 1, 0 }));
        var (v0, i0) = x.Max(0, keepDim: true);
        TensorAssert.Close(v0, [7, 9, 6], [1, 3]);
        Assert.That(i0, Is.EqualTo(new[] { 1, 0, 1 }));
        Assert.That(x.ArgMax(), Is.EqualTo(new[] { 1, 0 }));
    }

    [Test]
    public void Sum_Axes_GradientsMatchNumerical()
    {
        Tensor x = TestData.Uniform([2, 3, 4], 3);
        TensorAssert.GradientsMatch(v => v[0].Sum(), x);
        TensorAssert.GradientsMatch(v => v[0].Sum(1), x);
        TensorAssert.GradientsMatch(v => v[0].Sum([0, 2], keepDim: true), x);
        TensorAssert.GradientsMatch(v => v[0].Mean(-1), x);
        TensorAssert.GradientsMatch(v => v[0].Mean(), x);
    }

    [Test]
    public void Var_GradientsMatchNumerical()
    {
        Tensor x = TestData.Uniform([3, 4], 4);
        TensorAssert.GradientsMatch(v => v[0].Var(), x);
        TensorAssert.GradientsMatch(v => v[0].Var(0, unbiased: false), x);
        TensorAssert.GradientsMatch(v => v[0].Var([1], unbiased: true, keepDim: true), x);
    }

    [Test]
    public void Max_GradientsMatchNumerical()
    {
        Tensor x = TestData.Distinct([3, 4, 2], 5);
        TensorAssert.GradientsMatch(v => v[0].Max(1).Values, x);
        TensorAssert.GradientsMatch(v => v[0].Max(-1, keepDim: true).Values, x);
        TensorAssert.GradientsMatch(v => v[0].Max(0).Values, x);
    }

    [Test]
    public void Sum_BadAxes_ThrowNamingAxis()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => X.Sum(2));
        Assert.That(ex!.Message, Does.Contain("axis 2").And.Contain("rank 2"));
        Assert.Throws<ArgumentException>(() => X.Sum([0, -2]));
    }
}
