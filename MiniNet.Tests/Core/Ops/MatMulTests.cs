using MathNet.Numerics.LinearAlgebra;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Ops;

[TestFixture]
public class MatMulTests
{
    private static Matrix<float> ToMatrix(Tensor t, int offset, int rows, int cols) =>
        Matrix<float>.Build.Dense(rows, cols, (i, j) => t.Data[offset + i * cols + j]);

    [TestCase(1, 1, 1)]
    [TestCase(3, 5, 4)]
    [TestCase(17, 33, 9)]
    [TestCase(64, 300, 70)]
    [TestCase(128, 784, 100)]
    public void MatMul2D_MatchesMathNet(int m, int k, int n)
    {
        Tensor a = TestData.Uniform([m, k], 1), b = TestData.Uniform([k, n], 2);
        Tensor y = a.MatMul(b);
        Matrix<float> expected = ToMatrix(a, 0, m, k) * ToMatrix(b, 0, k, n);
        Assert.That(y.Shape, Is.EqualTo(new[] { m, n }));
        TensorAssert.Close(y.Data, expected.ToRowMajorArray(), atol: 1e-4f, rtol: 1e-4f);
    }

    [Test]
    public void MatMulBatched_MatchesMathNetPerEntry()
    {
        Tensor a = TestData.Uniform([3, 5, 7], 3), b = TestData.Uniform([3, 7, 4], 4);
        Tensor y = a.MatMul(b);
        Assert.That(y.Shape, Is.EqualTo(new[] { 3, 5, 4 }));
        for (int i = 0; i < 3; i++)
        {
            Matrix<float> expected = ToMatrix(a, i * 35, 5, 7) * ToMatrix(b, i * 28, 7, 4);
            TensorAssert.Close(y.Data.Slice(i * 20, 20), expected.ToRowMajorArray(), atol: 1e-5f);
        }
    }

    [Test]
    public void MatMul3DBy2D_SharesTheRightOperand()
    {
        Tensor a = TestData.Uniform([2, 3, 4], 5), b = TestData.Uniform([4, 6], 6);
        Tensor y = a.MatMul(b);
        Assert.That(y.Shape, Is.EqualTo(new[] { 2, 3, 6 }));
        for (int i = 0; i < 2; i++)
            TensorAssert.Close(y.Data.Slice(i * 18, 18), (ToMatrix(a, i * 12, 3, 4) * ToMatrix(b, 0, 4, 6)).ToRowMajorArray(), atol: 1e-5f);
    }

    [Test]
    public void MatMul_GradientsMatchNumerical()
    {
        TensorAssert.GradientsMatch(v => v[0].MatMul(v[1]), TestData.Uniform([3, 4], 7), TestData.Uniform([4, 5], 8));
        TensorAssert.GradientsMatch(v => v[0].MatMul(v[1]), TestData.Uniform([2, 3, 4], 9), TestData.Uniform([2, 4, 2], 10));
        TensorAssert.GradientsMatch(v => v[0].MatMul(v[1]), TestData.Uniform([2, 3, 4], 11), TestData.Uniform([4, 2], 12));
        Tensor w = TestData.Uniform([4, 4], 13);
        TensorAssert.GradientsMatch(v => v[0].MatMul(v[0]), w);   // reused input: both operand gradients add up
    }

    [Test]
    public void MatMul_InnerMismatch_ThrowsTheDocumentedMessage()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Zeros(32, 784).MatMul(Tensor.Zeros(128, 10)));
        // The documented text, then .NET's suffix naming the argument.
        Assert.That(ex!.Message, Is.EqualTo("MatMul: (32, 784) @ (128, 10): inner dimensions 784 and 128 differ (Parameter 'b')"));
        Assert.That(ex.ParamName, Is.EqualTo("b"));
    }

    [Test]
    public void MatMul_BadRanksOrBatch_Throw()
    {
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(3).MatMul(Tensor.Zeros(3, 2)));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3, 4).MatMul(Tensor.Zeros(3, 4, 5)));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(3, 4).MatMul(Tensor.Zeros(2, 4, 5)));
    }
}
