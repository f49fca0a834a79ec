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
            Assert.That(ex!.Message, Does.Contain("'log'").And.Contain("-∞").Or.Contain("Infinity"));
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
}
