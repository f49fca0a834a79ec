using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Layers;

/// <summary>MSE, L1, smooth L1, Huber, BCE with logits, NLL and cross-entropy (weights, ignored labels, label
/// smoothing) against PyTorch 1.13 for every reduction
/// (Fixtures/losses.json: values and input gradients, with a zero difference, a difference at β, logits of ±40,
/// class weights, pos_weight and ignored labels).</summary>
[TestFixture]
public class LossTests
{
    private static readonly string[] Names =
        ["mse", "l1", "smooth_l1", "smooth_l1_0.5", "smooth_l1_0", "huber_2", "bce", "bce_weighted", "nll", "nll_weighted_ignored",
         "ce", "ce_weighted_ignored", "ce_smoothed", "ce_all"];

    private static IEnumerable<TestCaseData> Cases() =>
        from name in Names
        from reduction in new[] { Reduction.Mean, Reduction.Sum, Reduction.None }
        select new TestCaseData(name, reduction);

    [TestCaseSource(nameof(Cases))]
    public void ValuesAndGradients_MatchPyTorch(string name, Reduction reduction)
    {
        var f = Fixture.Load("losses.json");
        Tensor T(string key) => Tensor.FromArray(f.GetProperty(key).Floats(), 6, 4);
        int[] labels = f.GetProperty("labels").Ints(), ignored = f.GetProperty("labels_ignored").Ints();
        float[] classWeight = f.GetProperty("class_weight").Floats();
        Tensor elemWeight = Tensor.From(f.GetProperty("elem_weight").Floats()), posWeight = Tensor.From(f.GetProperty("pos_weight").Floats());
        Tensor x = name switch { "bce" or "bce_weighted" or "ce" or "ce_weighted_ignored" or "ce_smoothed" or "ce_all" => T("logits"), "nll" or "nll_weighted_ignored" => T("logp"), _ => T("pred") };
        x.RequiresGrad = true;
        Tensor loss = name switch
        {
            "mse" => new MSELoss(reduction).Forward(x, T("target")),
            "l1" => new L1Loss(reduction).Forward(x, T("target")),
            "smooth_l1" => new SmoothL1Loss(reduction).Forward(x, T("target")),
            "smooth_l1_0.5" => new SmoothL1Loss(reduction, beta: 0.5f).Forward(x, T("target")),
            "smooth_l1_0" => new SmoothL1Loss(reduction, beta: 0f).Forward(x, T("target")),
            "huber_2" => new HuberLoss(reduction, delta: 2f).Forward(x, T("target")),
            "bce" => new BCEWithLogitsLoss(reduction).Forward(x, T("prob_target")),
            "bce_weighted" => new BCEWithLogitsLoss(reduction, elemWeight, posWeight).Forward(x, T("prob_target")),
            "nll" => new NLLLoss(reduction).Forward(x, labels),
            "nll_weighted_ignored" => new NLLLoss(reduction, classWeight).Forward(x, ignored),
            "ce" => new CrossEntropyLoss(reduction).Forward(x, labels),
            "ce_weighted_ignored" => new CrossEntropyLoss(reduction, classWeight).Forward(x, ignored),
            "ce_smoothed" => new CrossEntropyLoss(reduction, labelSmoothing: 0.1f).Forward(x, labels),
            "ce_all" => new CrossEntropyLoss(reduction, classWeight, labelSmoothing: 0.2f).Forward(x, ignored),
            _ => throw new ArgumentException(name),
        };
        var expected = f.GetProperty("cases").GetProperty($"{name}/{reduction.ToString().ToLowerInvariant()}");
        TensorAssert.Close(loss, expected.GetProperty("y").Floats(), atol: 1e-5f, rtol: 1e-5f);
        (reduction == Reduction.None ? loss.Sum() : loss).Backward();
        float[] dx = expected.GetProperty("dx").Floats();
        if (name == "smooth_l1_0")
        {
            // PyTorch 1.13's smooth L1 with β = 0 gives the slope −1 at a zero difference (element 0), its L1 loss 0;
            // MiniNet's β = 0 is its L1 loss there too.
            Assert.That(x.Grad![0, 0], Is.EqualTo(0f));
            dx[0] = 0f;
        }
        TensorAssert.Close(x.Grad!, dx, atol: 1e-6f, rtol: 1e-5f);
    }

    private static IEnumerable<TestCaseData> SpatialCases() =>
        from name in new[] { "ce_spatial", "ce_spatial_all", "nll_spatial" }
        from reduction in new[] { Reduction.Mean, Reduction.Sum, Reduction.None }
        from asTensor in new[] { false, true }
        select new TestCaseData(name, reduction, asTensor);

    [TestCaseSource(nameof(SpatialCases))]
    public void ClassScoresPerPosition_MatchPyTorch(string name, Reduction reduction, bool labelsAsTensor)
    {
        // (N, K, d1, d2) = (2, 4, 3, 2): every position its own sample, labels (2, 3, 2) with two ignored.
        var f = Fixture.Load("losses.json");
        Tensor x = Tensor.FromArray(f.GetProperty(name == "nll_spatial" ? "logp4" : "logits4").Floats(), 2, 4, 3, 2);
        x.RequiresGrad = true;
        int[] labels = f.GetProperty("labels4").Ints();
        Tensor labelTensor = Tensor.FromInt64Array(labels.Select(l => (long)l).ToArray(), 2, 3, 2);
        float[] classWeight = f.GetProperty("class_weight").Floats();
        Tensor loss = name switch
        {
            "ce_spatial" => labelsAsTensor ? new CrossEntropyLoss(reduction).Forward(x, labelTensor) : new CrossEntropyLoss(reduction).Forward(x, labels),
            "ce_spatial_all" => new CrossEntropyLoss(reduction, classWeight, labelSmoothing: 0.1f) is var ce && labelsAsTensor ? ce.Forward(x, labelTensor) : ce.Forward(x, labels),
            _ => new NLLLoss(reduction, classWeight) is var nll && labelsAsTensor ? nll.Forward(x, labelTensor) : nll.Forward(x, labels),
        };
        var expected = f.GetProperty("cases").GetProperty($"{name}/{reduction.ToString().ToLowerInvariant()}");
        if (reduction == Reduction.None) Assert.That(loss.Shape, Is.EqualTo(new[] { 2, 3, 2 }), "one loss per position, in the labels' shape");
        TensorAssert.Close(loss.Data, expected.GetProperty("y").Floats(), atol: 1e-5f, rtol: 1e-5f);
        (reduction == Reduction.None ? loss.Sum() : loss).Backward();
        TensorAssert.Close(x.Grad!.Data, expected.GetProperty("dx").Floats(), atol: 1e-6f, rtol: 1e-5f, what: "dx");
    }

    [Test]
    public void ClassScoresPerPosition_BadLabels_AreNamed()
    {
        Tensor x = Tensor.Zeros(2, 3, 4);
        Assert.That(() => new CrossEntropyLoss().Forward(x, Tensor.FromInt64Array(new long[6], 2, 3)),
            Throws.ArgumentException.With.Message.Contains("(2, 3)").And.Message.Contains("expected (2, 4)"));
        Assert.That(() => new CrossEntropyLoss().Forward(x, Tensor.Zeros(2, 4)), Throws.ArgumentException.With.Message.Contains("int64"));
        Assert.That(() => new NLLLoss().Forward(Tensor.Zeros(3), [0, 0, 0]), Throws.ArgumentException.With.Message.Contains("(N, K, d1, ...)"));
        Assert.That(() => new CrossEntropyLoss(Reduction.Sum).Forward(x, [0, 1, 2, 3, 0, 1, 2, 0]),
            Throws.ArgumentException.With.Message.Contains("label 3 at index 3"));
    }

    [Test]
    public void NllLoss_EverySampleIgnored_IsNaN_AsInPyTorch()
    {
        Tensor x = Tensor.Zeros(2, 3).LogSoftmax();
        Assert.That(float.IsNaN(new NLLLoss().Forward(x, [-100, -100]).Item()));
        Assert.That(new NLLLoss(Reduction.Sum).Forward(x, [-100, -100]).Item(), Is.EqualTo(0f));
    }

    [Test]
    public void BadArguments_AreRefusedNamingTheArgumentAndShape()
    {
        Tensor a = Tensor.Zeros(2, 3), b = Tensor.Zeros(3, 2);
        Assert.Multiple(() =>
        {
            Assert.That(() => new L1Loss().Forward(a, b), Throws.ArgumentException.With.Property("ParamName").EqualTo("target").And.Message.Contains("(3, 2)"));
            Assert.That(() => new MSELoss((Reduction)7), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("reduction"));
            Assert.That(() => new SmoothL1Loss(beta: -1f), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("beta"));
            Assert.That(() => new HuberLoss(delta: 0f), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("delta"));
            Assert.That(() => new BCEWithLogitsLoss(posWeight: Tensor.Zeros(2, 2)), Throws.ArgumentException.With.Property("ParamName").EqualTo("posWeight"));
            Assert.That(() => new BCEWithLogitsLoss(posWeight: Tensor.Zeros(2)).Forward(a, a), Throws.ArgumentException.With.Message.Contains("2 values"));
            Assert.That(() => new NLLLoss(weight: [1f, float.NaN]), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("weight"));
            Assert.That(() => new NLLLoss().Forward(a, [0, 3]), Throws.ArgumentException.With.Property("ParamName").EqualTo("labels").And.Message.Contains("label 3 at index 1"));
            Assert.That(() => new NLLLoss().Forward(a, [0]), Throws.ArgumentException.With.Property("ParamName").EqualTo("labels"));
            Assert.That(() => new NLLLoss(weight: [1f, 1f]).Forward(a, [0, 1]), Throws.ArgumentException.With.Message.Contains("2 class weights for 3 classes"));
            Assert.That(() => new CrossEntropyLoss(labelSmoothing: 1.5f), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("labelSmoothing"));
            Assert.That(() => new CrossEntropyLoss(labelSmoothing: 0.1f).Forward(a, [0, 5]), Throws.ArgumentException.With.Message.Contains("label 5 at index 1"));
            Assert.That(() => new NLLLoss().Forward(Tensor.Zeros(6), [0]), Throws.ArgumentException.With.Message.Contains("(N, K)"));
        });
    }
}
