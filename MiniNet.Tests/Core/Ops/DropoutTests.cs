using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Ops;

[TestFixture]
public class DropoutTests
{
    [Test]
    public void Dropout_Eval_IsIdentity()
    {
        Tensor x = TestData.Uniform([10], 1);
        Assert.That(x.Dropout(0.5f, training: false), Is.SameAs(x));
    }

    [Test]
    public void Dropout_Training_ZeroesAboutPAndScalesTheRest()
    {
        Tensor y = Tensor.Ones(100_000).Dropout(0.3f, training: true, Rng.Create(1));
        float[] v = y.ToArray();
        double zeroFraction = v.Count(a => a == 0f) / (double)v.Length;
        Assert.That(zeroFraction, Is.EqualTo(0.3).Within(0.01));
        Assert.That(v.Where(a => a != 0f), Is.All.EqualTo(1f / 0.7f).Within(1e-6f));
        Assert.That(v.Average(), Is.EqualTo(1.0).Within(0.02));
    }

    [Test]
    public void Dropout_SameSeed_SameMask()
    {
        Tensor x = TestData.Uniform([50], 2);
        float[] first = x.Dropout(0.5f, true, Rng.Create(3)).ToArray();
        float[] second = x.Dropout(0.5f, true, Rng.Create(3)).ToArray();
        Assert.That(second, Is.EqualTo(first));
        Assert.That(first, Has.Some.EqualTo(0f));
    }

    [Test]
    public void Dropout_GradientsMatchNumerical() =>
        TensorAssert.GradientsMatch(v => v[0].Dropout(0.4f, training: true, Rng.Create(4)), TestData.Uniform([4, 6], 5));

    [Test]
    public void Dropout_BadP_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Ones(2).Dropout(1.5f, true));
}
