using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Ops;

[TestFixture]
public class SoftmaxTests
{
    [Test]
    public void Softmax_RowsSumToOne_AndMatchClosedForm()
    {
        var x = Tensor.FromArray([1, 2, 3, 1, 1, 1], 2, 3);
        Tensor y = x.Softmax();
        float e1 = MathF.Exp(1), e2 = MathF.Exp(2), e3 = MathF.Exp(3), s = e1 + e2 + e3;
        TensorAssert.Close(y, [e1 / s, e2 / s, e3 / s, 1 / 3f, 1 / 3f, 1 / 3f], [2, 3], atol: 1e-6f);
        TensorAssert.Close(x.LogSoftmax(), y.ToArray().Select(v => MathF.Log(v)).ToArray(), atol: 1e-6f);
    }

    [Test]
    public void Softmax_HugeLogits_StayFinite()
    {
        Tensor y = Tensor.From(1000f, 1001f, -1000f).Softmax();
        Tensor l = Tensor.From(1000f, 1001f, -1000f).LogSoftmax();
        Assert.That(y.ToArray(), Has.All.Matches<float>(float.IsFinite));
        Assert.That(l[1], Is.EqualTo(-MathF.Log(1 + MathF.Exp(-1))).Within(1e-5f));
    }

    [Test]
    public void Softmax_MiddleAxis_NormalisesAlongIt()
    {
        Tensor x = TestData.Uniform([2, 3, 4], 1);
        Tensor y = x.Softmax(1);
        for (int a = 0; a < 2; a++)
            for (int c = 0; c < 4; c++)
                Assert.That(y[a, 0, c] + y[a, 1, c] + y[a, 2, c], Is.EqualTo(1f).Within(1e-6f));
        TensorAssert.Close(x.LogSoftmax(1), y.ToArray().Select(v => MathF.Log(v)).ToArray(), atol: 1e-6f);
    }

    [Test]
    public void Softmax_GradientsMatchNumerical()
    {
        Tensor x = TestData.Uniform([3, 5], 2);
        TensorAssert.GradientsMatch(v => v[0].Softmax(), x);
        TensorAssert.GradientsMatch(v => v[0].LogSoftmax(), x);
        Tensor z = TestData.Uniform([2, 3, 4], 3);
        TensorAssert.GradientsMatch(v => v[0].Softmax(1), z);
        TensorAssert.GradientsMatch(v => v[0].LogSoftmax(0), z);
    }
}
