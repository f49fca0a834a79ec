using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Autograd;

[TestFixture]
public class EngineTests
{
    [Test]
    public void ReadmeExample_RunsAndGivesClosedFormGradient()
    {
        var x = Tensor.FromArray([1, -2, 3, -4, 5, -6], 2, 3);
        x.RequiresGrad = true;
        var loss = x.Sigmoid().MatMul(Tensor.Ones(3, 4)).Relu().Sum();
        loss.Backward();
        float[] dx = x.Grad!.ToArray();
        // Every sigmoid output feeds 4 positive sums, so dL/dx = 4·σ(x)·(1 − σ(x)).
        float[] expected = [1, -2, 3, -4, 5, -6];
        for (int i = 0; i < 6; i++)
        {
            float s = 1f / (1f + MathF.Exp(-expected[i]));
            expected[i] = 4f * s * (1f - s);
        }
        TensorAssert.Close(dx, expected, atol: 1e-6f);

        using (MiniNet.Autograd.NoGrad()) { var y = x.Tanh() * 2f - 1f; Assert.That(y.RequiresGrad, Is.False); }
        var logits = Tensor.Randn(new[] { 8, 10 }, seed: 1); logits.RequiresGrad = true;
        logits.CrossEntropy(new[] { 0, 1, 2, 3, 4, 5, 6, 7 }).Backward();
        Assert.That(logits.Grad, Is.Not.Null);
        // Each row of the cross-entropy gradient sums to zero (softmax minus one-hot).
        for (int r = 0; r < 8; r++)
            Assert.That(logits.Grad!.ToArray().Skip(r * 10).Take(10).Sum(), Is.EqualTo(0f).Within(1e-6f));
    }

    [Test]
    public void Backward_CalledTwice_AccumulatesLeafGradients()
    {
        var x = Tensor.From(1f, 2f);
        x.RequiresGrad = true;
        (x * 3f).Sum().Backward();
        (x * 3f).Sum().Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new float[] { 6, 6 }));
    }

    [Test]
    public void Backward_InputUsedTwice_SumsGradients()
    {
        var x = Tensor.From(0.5f);
        x.RequiresGrad = true;
        (x.Sigmoid() + x.Sigmoid()).Sum().Backward();
        Assert.That(x.Grad![0], Is.EqualTo(2 * 0.2350037f).Within(1e-6f));   // 2·σ(0.5)·(1 − σ(0.5))
    }

    [Test]
    public void Backward_DiamondGraph_SumsBothPaths()
    {
        var x = Tensor.From(2f);
        x.RequiresGrad = true;
        Tensor a = x * x;          // 4, da/dx = 2x
        Tensor y = a * x + a;      // x³ + x², dy/dx = 3x² + 2x = 16
        y.Sum().Backward();
        Assert.That(x.Grad![0], Is.EqualTo(16f).Within(1e-5f));
    }

    [Test]
    public void NoGrad_RecordsNothing_AndRestoresOnDispose()
    {
        var x = Tensor.Ones(2);
        x.RequiresGrad = true;
        using (MiniNet.Autograd.NoGrad())
        {
            using (MiniNet.Autograd.NoGrad()) { }
            Tensor y = x * 2f;
            Assert.That(y.RequiresGrad, Is.False);
            Assert.That(y.Node, Is.Null);
            Assert.That(MiniNet.Autograd.Enabled, Is.False);
        }
        Assert.That(MiniNet.Autograd.Enabled, Is.True);
        Assert.That((x * 2f).RequiresGrad, Is.True);
    }

    [Test]
    public void Backward_NonScalar_ThrowsAndSaysSo()
    {
        var x = Tensor.Ones(2, 2);
        x.RequiresGrad = true;
        var ex = Assert.Throws<InvalidOperationException>(() => (x * 2f).Backward());
        Assert.That(ex!.Message, Does.Contain("(2, 2)").And.Contain("4 elements"));
    }

    [Test]
    public void Backward_WithGradient_WeightsTheOutputs()
    {
        var x = Tensor.From(1f, 2f);
        x.RequiresGrad = true;
        (x * 3f).Backward(Tensor.From(1f, 10f));
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new float[] { 3, 30 }));
        var ex = Assert.Throws<ArgumentException>(() => (x * 3f).Backward(Tensor.Ones(3)));
        Assert.That(ex!.Message, Does.Contain("(3)").And.Contain("(2)"));
    }

    [Test]
    public void Backward_ThroughFreedGraph_ThrowsAndSaysSo()
    {
        var x = Tensor.From(1f);
        x.RequiresGrad = true;
        Tensor y = (x.Exp() * 2f).Sum();
        y.Backward();
        var ex = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.That(ex!.Message, Does.Contain("already freed"));
    }

    [Test]
    public void Backward_RetainGraph_AllowsSecondPass()
    {
        var x = Tensor.From(1f);
        x.RequiresGrad = true;
        Tensor y = x.Exp().Sum();
        y.Backward(retainGraph: true);
        y.Backward();
        Assert.That(x.Grad![0], Is.EqualTo(2f * MathF.E).Within(1e-5f));
    }

    [Test]
    public void Backward_OnTensorWithoutGraph_Throws()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Tensor.Ones(1).Backward());
        Assert.That(ex!.Message, Does.Contain("does not require grad"));
    }

    [Test]
    public void Backward_IntermediateGradients_AreFreed_LeafKept()
    {
        var x = Tensor.Ones(2);
        x.RequiresGrad = true;
        Tensor h = x.Exp();
        h.Sum().Backward();
        Assert.That(h.Grad, Is.Null);
        Assert.That(x.Grad, Is.Not.Null);
    }

    [Test]
    public void Backward_DeepChain_DoesNotOverflowTheStack()
    {
        var x = Tensor.From(1f);
        x.RequiresGrad = true;
        Tensor y = x;
        for (int i = 0; i < 20_000; i++) y = y + 0f;
        y.Sum().Backward();
        Assert.That(x.Grad![0], Is.EqualTo(1f));
    }

    [Test]
    public void Backward_SkipsInputsThatDoNotRequireGrad()
    {
        var x = Tensor.From(1f, 2f);
        x.RequiresGrad = true;
        var c = Tensor.From(3f, 4f);
        (x * c).Sum().Backward();
        Assert.That(c.Grad, Is.Null);
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new float[] { 3, 4 }));
    }

    [Test]
    public void Backward_SharedIntermediate_FirstConsumerWritesAndTheOthersAdd()
    {
        // h feeds consumers whose backward writes an untouched gradient outright and adds to one already written
        // (linear, batch_norm, relu, sigmoid), in every order the engine may visit them.
        Tensor w = TestData.Uniform([6, 4], 2), v = TestData.Uniform([3, 6], 3);
        TensorAssert.GradientsMatch(t =>
        {
            Tensor h = t[0].Linear(w);
            Tensor normalized = h.BatchNorm(null, null, null, null, training: true);
            return h.Relu() + h.Sigmoid() + normalized * normalized + h.Linear(v).Sum(1, keepDim: true);
        }, [TestData.Uniform([5, 4], 1)]);
    }
}
