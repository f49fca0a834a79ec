using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Autograd;

/// <summary><see cref="MiniNet.Autograd.GradTarget"/>, the one way a backward function sends a gradient to an input, and
/// the post-accumulate hooks the engine calls as each leaf's gradient completes.</summary>
[TestFixture]
public class GradientTargetTests
{
    /// <summary>y = 3x, written as a custom op that records what its gradient targets said.</summary>
    private static Tensor Triple(Tensor x, List<bool> accumulateFlags, bool useAdd)
    {
        Tensor y = Tensor.Empty([.. x.Shape]);
        System.Numerics.Tensors.TensorPrimitives.Multiply(x.Data, 3f, y.Data);
        return MiniNet.Autograd.Record(y, "triple", [x], dy =>
        {
            GradientTarget dx = MiniNet.Autograd.GradTarget(x);
            accumulateFlags.Add(dx.Accumulate);
            float[] scaled = dy.ToArray().Select(v => 3f * v).ToArray();
            if (useAdd) dx.Add(scaled);
            else if (dx.Accumulate) for (int i = 0; i < scaled.Length; i++) dx.Data[i] += scaled[i];
            else scaled.CopyTo(dx.Data);   // a fresh target is written outright
        });
    }

    [TestCase(false), TestCase(true)]
    public void FreshTargetIsWritten_ThenAccumulated_ForAnInputUsedTwice(bool useAdd)
    {
        var flags = new List<bool>();
        var x = Tensor.FromArray([1f, 2f], 2);
        x.RequiresGrad = true;
        Tensor h = x * 2f;                                   // an intermediate: its gradient is pending, then fresh
        (Triple(h, flags, useAdd) + Triple(h, flags, useAdd)).Sum().Backward();
        Assert.That(flags, Is.EqualTo(new[] { false, true }), "the second op used on h adds to what the first wrote");
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 12f, 12f }));
    }

    [Test]
    public void LeafGradients_AccumulateAcrossPasses_AndAKeptBufferIsWrittenWithoutClearing()
    {
        var flags = new List<bool>();
        var x = Tensor.FromArray([1f, -1f], 2);
        x.RequiresGrad = true;
        Triple(x, flags, useAdd: false).Sum().Backward();
        Triple(x, flags, useAdd: false).Sum().Backward();
        Assert.That(flags, Is.EqualTo(new[] { true, true }), "a leaf without a kept buffer starts from zeros and accumulates");
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 6f, 6f }));

        Tensor buffer = x.Grad!;
        x.ZeroGrad(setToNone: true);
        Assert.That(x.Grad, Is.Null);
        buffer.Data.Fill(float.NaN);                        // whatever the kept buffer holds is overwritten
        Triple(x, flags, useAdd: false).Sum().Backward();
        Assert.That(flags[^1], Is.False, "the kept buffer comes back fresh: written outright");
        Assert.That(x.Grad, Is.SameAs(buffer), "and no new buffer is made");
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 3f, 3f }));
    }

    [Test]
    public void Add_OnAFreshTarget_CountsItAsZeros()
    {
        var x = Tensor.FromArray([1f, 2f, 3f], 3);
        x.RequiresGrad = true;
        Tensor y = Tensor.Empty([3]);
        x.Data.CopyTo(y.Data);
        MiniNet.Autograd.Record(y, "pass", [x], dy => MiniNet.Autograd.GradTarget(x).Add([-0f, 1f, float.NaN])).Backward(Tensor.Ones(3));
        float[] g = x.Grad!.ToArray();
        Assert.That(BitConverter.SingleToInt32Bits(g[0]), Is.EqualTo(0), "0 + (−0) = +0, as clearing and adding gives");
        Assert.That(g[1], Is.EqualTo(1f));
        Assert.That(float.IsNaN(g[2]), Is.True);
    }

    [Test]
    public void GradTarget_OutsideABackwardPass_OrWithAWrongLength_Throws()
    {
        var x = Tensor.Zeros(4);
        Assert.That(Assert.Throws<InvalidOperationException>(() => MiniNet.Autograd.GradTarget(x))!.Message, Does.Contain("(4)").And.Contain("backward"));
        x.RequiresGrad = true;
        Tensor y = Tensor.Empty([4]);
        Tensor recorded = MiniNet.Autograd.Record(y, "bad", [x], dy => MiniNet.Autograd.GradTarget(x).Add([1f, 2f]));
        Assert.That(Assert.Throws<ArgumentException>(() => recorded.Sum().Backward())!.Message, Does.Contain("2 values").And.Contain("(4)"));
    }

    [Test]
    public void PostAccumulateHook_RunsOncePerPass_AsEachLeafGradientCompletes_DuringTheBackwardPass()
    {
        // y = relu(x·W1ᵀ)·W2ᵀ, and W2 also feeds a second term: its hook must wait for both contributions.
        var w1 = new Parameter(Tensor.Randn([5, 4], seed: 1));
        var w2 = new Parameter(Tensor.Randn([3, 5], seed: 2));
        var x = Tensor.Randn([6, 4], seed: 3);
        var calls = new List<(string Name, float[] Grad, bool OtherDone)>();
        using var h1 = w1.RegisterPostAccumulateGradHook(t => calls.Add(("w1", t.Grad!.ToArray(), true)));
        using var h2 = w2.RegisterPostAccumulateGradHook(t => calls.Add(("w2", t.Grad!.ToArray(), calls.Any(c => c.Name == "w1"))));
        Tensor loss = x.Linear(w1).Relu().Linear(w2).Sum() + w2.Square().Sum();
        loss.Backward();
        Assert.That(calls.Select(c => c.Name), Is.EqualTo(new[] { "w2", "w1" }), "the last layer's gradient is complete first");
        Assert.That(calls[0].OtherDone, Is.False, "w2's hook ran while w1's gradient was still to come");
        Assert.That(calls[0].Grad, Is.EqualTo(w2.Grad!.ToArray()), "w2's gradient was complete when its hook ran");
        Assert.That(calls[1].Grad, Is.EqualTo(w1.Grad!.ToArray()));

        h2.Dispose();
        loss = x.Linear(w1).Relu().Linear(w2).Sum();
        loss.Backward();
        Assert.That(calls.Count(c => c.Name == "w2"), Is.EqualTo(1), "a disposed hook no longer runs");
        Assert.That(calls.Count(c => c.Name == "w1"), Is.EqualTo(2));

        w2.Square().Sum().Backward();   // a pass that does not reach w1: no call
        Assert.That(calls, Has.Count.EqualTo(3));
        Assert.Throws<InvalidOperationException>(() => (w1 * 2f).RegisterPostAccumulateGradHook(_ => { }));
    }
}
