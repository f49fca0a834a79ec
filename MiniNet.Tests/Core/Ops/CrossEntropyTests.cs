using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Ops;

[TestFixture]
public class CrossEntropyTests
{
    private static readonly int[] Labels = [2, 0, 4, 1];

    /// <summary>The composite reference: −mean over rows of log-softmax at the label, from primitive ops.</summary>
    private static Tensor Composite(Tensor logits, int[] labels)
    {
        var onehot = Tensor.Zeros(logits.Size(0), logits.Size(1));
        for (int i = 0; i < labels.Length; i++) onehot[i, labels[i]] = 1f;
        return -(logits.LogSoftmax(1) * onehot).Sum() / labels.Length;
    }

    [Test]
    public void CrossEntropy_EqualsCompositeOfPrimitives()
    {
        Tensor a = TestData.Uniform([4, 5], 1, -3f, 3f), b = a.Clone();
        a.RequiresGrad = true;
        b.RequiresGrad = true;
        Tensor fused = a.CrossEntropy(Labels), composite = Composite(b, Labels);
        Assert.That(fused.Item(), Is.EqualTo(composite.Item()).Within(1e-6f));
        fused.Backward();
        composite.Backward();
        TensorAssert.Close(a.Grad!, b.Grad!, atol: 1e-6f);
    }

    [Test]
    public void CrossEntropy_UniformLogits_GiveLogK()
    {
        Assert.That(Tensor.Zeros(3, 10).CrossEntropy([0, 5, 9]).Item(), Is.EqualTo(MathF.Log(10)).Within(1e-6f));
    }

    [Test]
    public void CrossEntropy_HugeLogits_StayFinite()
    {
        var x = Tensor.FromArray([1000f, -1000f, 0f, 500f], 2, 2);
        float loss = x.CrossEntropy([1, 0]).Item();
        Assert.That(loss, Is.EqualTo((2000f + 500f) / 2f).Within(1e-2f));
    }

    [Test]
    public void CrossEntropy_GradientsMatchNumerical() =>
        TensorAssert.GradientsMatch(v => v[0].CrossEntropy(Labels), TestData.Uniform([4, 5], 2));

    [Test]
    public void CrossEntropy_BadLabels_ThrowNamingThem()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).CrossEntropy([0, 3]));
        Assert.That(ex!.Message, Does.Contain("label 3").And.Contain("index 1").And.Contain("[0, 3)"));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).CrossEntropy([0]));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).CrossEntropy([-1, 0]));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(6).CrossEntropy([0]));
    }
}
