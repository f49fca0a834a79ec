using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Ops;

[TestFixture]
public class ArithmeticTests
{
    private static readonly Func<Tensor, Tensor, Tensor>[] Binary = [(a, b) => a + b, (a, b) => a - b, (a, b) => a * b, (a, b) => a / b];
    private static readonly string[] BinaryNames = ["add", "sub", "mul", "div"];

    // Shapes covering: same shape, right operand broadcast, left operand broadcast, both broadcast, rank-0, leading dims.
    private static readonly object[] ShapePairs =
    [
        new object[] { new[] { 3, 4 }, new[] { 3, 4 } },
        new object[] { new[] { 3, 4 }, new[] { 4 } },
        new object[] { new[] { 4 }, new[] { 3, 4 } },
        new object[] { new[] { 3, 1 }, new[] { 1, 4 } },
        new object[] { new[] { 2, 3, 4 }, new[] { 3, 1 } },
        new object[] { new[] { 2, 1, 4 }, new[] { 2, 3, 1 } },
        new object[] { new[] { 2, 3 }, new int[0] },
        new object[] { new[] { 1 }, new[] { 2, 2 } },
    ];

    [TestCaseSource(nameof(ShapePairs))]
    public void BinaryOps_Broadcast_MatchElementwiseReference(int[] shapeA, int[] shapeB)
    {
        Tensor a = TestData.Uniform(shapeA, 1), b = TestData.Uniform(shapeB, 2, 0.5f, 2f);
        int[] outShape = Shapes.Broadcast(shapeA, shapeB, "test");
        Func<float, float, float>[] scalar = [(x, y) => x + y, (x, y) => x - y, (x, y) => x * y, (x, y) => x / y];
        for (int k = 0; k < Binary.Length; k++)
        {
            Tensor y = Binary[k](a, b);
            Assert.That(y.Shape, Is.EqualTo(outShape), BinaryNames[k]);
            var expected = new float[y.Numel];
            MiniNet.Kernels.Reference.BroadcastingReference.Binary(a.ToArray(), Shapes.BroadcastStrides(shapeA, outShape),
                b.ToArray(), Shapes.BroadcastStrides(shapeB, outShape), outShape, expected, scalar[k]);
            TensorAssert.Close(y.Data, expected, what: BinaryNames[k]);
        }
    }

    [TestCaseSource(nameof(ShapePairs))]
    public void BinaryOps_Broadcast_GradientsMatchNumerical(int[] shapeA, int[] shapeB)
    {
        Tensor a = TestData.Uniform(shapeA, 3), b = TestData.Uniform(shapeB, 4, 0.5f, 2f);
        foreach (var op in Binary)
            TensorAssert.GradientsMatch(x => op(x[0], x[1]), a, b);
    }

    [Test]
    public void BinaryOps_SameInputTwice_SumsGradients()
    {
        var x = Tensor.From(3f);
        x.RequiresGrad = true;
        (x * x).Sum().Backward();
        Assert.That(x.Grad![0], Is.EqualTo(6f));
        TensorAssert.GradientsMatch(v => v[0] * v[0] - v[0] / (v[0] + 3f), TestData.Uniform([5], 1));
    }

    [Test]
    public void ScalarOps_MatchClosedForm_AndGradients()
    {
        var x = Tensor.From(1f, 2f, 4f);
        TensorAssert.Close(x + 1f, [2, 3, 5]);
        TensorAssert.Close(1f + x, [2, 3, 5]);
        TensorAssert.Close(x - 1f, [0, 1, 3]);
        TensorAssert.Close(1f - x, [0, -1, -3]);
        TensorAssert.Close(x * 2f, [2, 4, 8]);
        TensorAssert.Close(2f * x, [2, 4, 8]);
        TensorAssert.Close(x / 2f, [0.5f, 1, 2]);
        TensorAssert.Close(2f / x, [2, 1, 0.5f]);
        TensorAssert.Close(-x, [-1, -2, -4]);
        Tensor p = TestData.Uniform([2, 3], 5, 0.5f, 2f);
        TensorAssert.GradientsMatch(v => (v[0] + 1f) * 3f - 2f / v[0] + (1f - v[0]) / 4f, p);
    }

    [Test]
    public void Add_IncompatibleShapes_ThrowsNamingOpAndShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => _ = Tensor.Ones(3, 4) + Tensor.Ones(3));
        Assert.That(ex!.Message, Does.Contain("Add").And.Contain("(3, 4)").And.Contain("(3)"));
    }
}
