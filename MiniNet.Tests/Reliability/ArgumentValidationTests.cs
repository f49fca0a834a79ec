using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Optim;

namespace MiniNet.Tests.Reliability;

/// <summary>Every public constructor and method of the layers, optimizers, schedules, loader, tensors and ops rejects
/// invalid values with an <see cref="ArgumentException"/> whose <see cref="ArgumentException.ParamName"/> is the argument.</summary>
[TestFixture]
public class ArgumentValidationTests
{
    private static readonly Tensor[] P = [new Parameter(Tensor.Zeros(3))];
    private static readonly SGD Opt = new(P, 0.1f);
    private static readonly TensorDataset Data = new(Tensor.Zeros(4, 2), [0, 1, 0, 1]);

    private static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData Case(string what, string argument, Action action) => new TestCaseData(argument, action).SetName($"Invalid_{what}_Names_{argument}");
        // Layers
        yield return Case("DenseIn0", "inFeatures", () => _ = new Dense(0, 3));
        yield return Case("DenseOutNeg", "outFeatures", () => _ = new Dense(3, -1));
        yield return Case("Conv2dIn0", "inChannels", () => _ = new Conv2d(0, 3, 3));
        yield return Case("Conv2dOut0", "outChannels", () => _ = new Conv2d(1, 0, 3));
        yield return Case("Conv2dKernel0", "kernelSize", () => _ = new Conv2d(1, 3, 0));
        yield return Case("Conv2dStride0", "stride", () => _ = new Conv2d(1, 3, 3, stride: 0));
        yield return Case("Conv2dPaddingNeg", "padding", () => _ = new Conv2d(1, 3, 3, padding: -1));
        yield return Case("BatchNorm1dFeatures0", "numFeatures", () => _ = new BatchNorm1d(0));
        yield return Case("BatchNorm1dEpsNeg", "eps", () => _ = new BatchNorm1d(3, eps: -1f));
        yield return Case("BatchNorm2dEpsNaN", "eps", () => _ = new BatchNorm2d(3, eps: float.NaN));
        yield return Case("BatchNorm2dMomentum2", "momentum", () => _ = new BatchNorm2d(3, momentum: 2f));
        yield return Case("LayerNormShape0", "normalizedShape", () => _ = new LayerNorm(0));
        yield return Case("LayerNormEps0", "eps", () => _ = new LayerNorm(3, eps: 0f));
        yield return Case("MaxPoolKernel0", "kernel", () => _ = new MaxPool2d(0));
        yield return Case("MaxPoolStride0", "stride", () => _ = new MaxPool2d(2, 0));
        yield return Case("AvgPoolPadding3", "padding", () => _ = new AvgPool2d(2, 2, 3));
        yield return Case("DropoutP2", "p", () => _ = new Dropout(2f));
        yield return Case("SequentialNull", "modules", () => _ = new Sequential(new ReLU(), null!));
        // Optimizers and schedules
        yield return Case("SgdLr0", "lr", () => _ = new SGD(P, 0f));
        yield return Case("SgdLrInf", "lr", () => _ = new SGD(P, float.PositiveInfinity));
        yield return Case("SgdMomentumNeg", "momentum", () => _ = new SGD(P, 0.1f, momentum: -0.5f));
        yield return Case("SgdDampeningNeg", "dampening", () => _ = new SGD(P, 0.1f, dampening: -1f));
        yield return Case("SgdWeightDecayNaN", "weightDecay", () => _ = new SGD(P, 0.1f, weightDecay: float.NaN));
        yield return Case("SgdNesterovNoMomentum", "nesterov", () => _ = new SGD(P, 0.1f, nesterov: true));
        yield return Case("SgdNoParameters", "groups", () => _ = new SGD(Array.Empty<Tensor>(), 0.1f));
        yield return Case("AdamBeta1", "beta1", () => _ = new Adam(P, beta1: 1f));
        yield return Case("AdamBeta2", "beta2", () => _ = new Adam(P, beta2: -0.1f));
        yield return Case("AdamEps", "eps", () => _ = new Adam(P, eps: -1e-8f));
        yield return Case("RmspropAlpha", "alpha", () => _ = new RMSprop(P, alpha: 1.5f));
        yield return Case("RmspropMomentum", "momentum", () => _ = new RMSprop(P, momentum: -0.1f));
        yield return Case("RmspropLr", "lr", () => _ = new RMSprop(P, lr: 0f));
        yield return Case("AdagradLrDecay", "lrDecay", () => _ = new Adagrad(P, lrDecay: -1f));
        yield return Case("AdagradInitialAccumulator", "initialAccumulatorValue", () => _ = new Adagrad(P, initialAccumulatorValue: float.NaN));
        yield return Case("AdamWWeightDecay", "weightDecay", () => _ = new AdamW(P, weightDecay: -1f));
        yield return Case("StepLRStep0", "stepSize", () => _ = new StepLR(Opt, 0));
        yield return Case("StepLRGamma0", "gamma", () => _ = new StepLR(Opt, 2, 0f));
        yield return Case("MultiStepNegative", "milestones", () => _ = new MultiStepLR(Opt, [-1]));
        yield return Case("CosineTMax0", "tMax", () => _ = new CosineAnnealingLR(Opt, 0));
        yield return Case("CosineEtaNeg", "etaMin", () => _ = new CosineAnnealingLR(Opt, 5, -1f));
        yield return Case("LinearStart0", "startFactor", () => _ = new LinearLR(Opt, startFactor: 0f));
        yield return Case("LinearEnd2", "endFactor", () => _ = new LinearLR(Opt, endFactor: 2f));
        yield return Case("LinearIters0", "totalIters", () => _ = new LinearLR(Opt, totalIters: 0));
        yield return Case("SetEpochNeg", "epoch", () => new StepLR(Opt, 1).SetEpoch(-1));
        yield return Case("ClipMaxNorm0", "maxNorm", () => GradientClipping.ClipGradNorm(P, 0f));
        // Data
        yield return Case("LoaderBatch0", "batchSize", () => _ = new DataLoader(Data, 0));
        yield return Case("LoaderNull", "dataset", () => _ = new DataLoader(null!, 4));
        yield return Case("DatasetLabels", "labels", () => _ = new TensorDataset(Tensor.Zeros(3, 2), [1]));
        yield return Case("TakeNeg", "count", () => Data.Take(-1));
        yield return Case("NormalizationStd", "std", () => _ = new Normalization([0f], [0f]));
        // Tensors and ops
        yield return Case("FromArrayShape", "shape", () => Tensor.FromArray([1f, 2f], 3));
        yield return Case("UniformHigh", "high", () => Tensor.Uniform([2], 1f, 0f, Rng.Create(0)));
        yield return Case("DropoutOpP", "p", () => Tensor.Ones(2).Dropout(-0.5f, true));
        yield return Case("ConvStride", "stride", () => Tensor.Zeros(1, 1, 4, 4).Conv2d(Tensor.Zeros(1, 1, 3, 3), stride: 0));
        yield return Case("SumAxis", "axis", () => Tensor.Zeros(2, 2).Sum(5));
        yield return Case("ZerosNeg", "shape", () => Tensor.Zeros(-1));
        yield return Case("ZerosOverflow", "shape", () => Tensor.Zeros(65536, 32768, 2));
        yield return Case("ReshapeCount", "shape", () => Tensor.Zeros(2, 3).Reshape(4, 2));
        yield return Case("ReshapeTwoInferred", "shape", () => Tensor.Zeros(2, 3).Reshape(-1, -1));
        yield return Case("CrossEntropyLabel", "labels", () => Tensor.Zeros(2, 3).CrossEntropy([0, 3]));
        yield return Case("CrossEntropyLabelCount", "labels", () => Tensor.Zeros(2, 3).CrossEntropy([0]));
        yield return Case("CrossEntropyRank", "logits", () => Tensor.Zeros(6).CrossEntropy([0]));
        yield return Case("MatMulShapes", "b", () => Tensor.Zeros(2, 3).MatMul(Tensor.Zeros(4, 2)));
        yield return Case("IndexerOutOfRange", "indices", () => _ = Tensor.Zeros(2, 3)[2, 0]);
        yield return Case("PermuteRepeat", "dims", () => Tensor.Zeros(2, 3).Permute(0, 0));
        yield return Case("BatchNormOpWeight", "weight", () => Tensor.Zeros(4, 3).BatchNorm(Tensor.Ones(2), null, null, null, training: true));
        yield return Case("Conv2dOpChannels", "weight", () => Tensor.Zeros(1, 3, 8, 8).Conv2d(Tensor.Zeros(4, 2, 3, 3)));
        yield return Case("DenseForwardWidth", "x", () => new Dense(4, 2).Forward(Tensor.Zeros(3, 5)));
        yield return Case("Conv2dForwardChannels", "x", () => new Conv2d(3, 2, 3).Forward(Tensor.Zeros(1, 2, 8, 8)));
        yield return Case("BatchNormForwardFeatures", "x", () => new BatchNorm1d(4).Forward(Tensor.Zeros(8, 3)));
        yield return Case("LoadStateDictShape", "state", () => new Dense(2, 2).LoadStateDict(new Dictionary<string, Tensor> { ["weight"] = Tensor.Zeros(3, 2), ["bias"] = Tensor.Zeros(2) }));
        yield return Case("SgdLoadNaNLr", "state", () => LoadLearningRate(float.NaN));
        yield return Case("SgdLoadNegativeLr", "state", () => LoadLearningRate(-5f));
        yield return Case("NormalizationLengths", "std", () => _ = new Normalization([0f, 1f], [1f]));
    }

    /// <summary>An SGD state dict whose learning rate is <paramref name="lr"/>, loaded into a fresh SGD.</summary>
    private static void LoadLearningRate(float lr)
    {
        var optimizer = new SGD([new Parameter(Tensor.Zeros(3))], 0.1f);
        var state = new Dictionary<string, Tensor>(optimizer.StateDict());
        string key = state.Keys.Single(k => k.StartsWith("param_groups.", StringComparison.Ordinal) && k.EndsWith(".lr", StringComparison.Ordinal));
        state[key] = Tensor.From(lr);
        optimizer.LoadStateDict(state);
    }

    [TestCaseSource(nameof(Cases))]
    public void InvalidArgument_ThrowsNamingIt(string argument, Action action)
    {
        var ex = Assert.Catch<ArgumentException>(() => action());
        Assert.That(ex!.ParamName, Is.EqualTo(argument), $"ParamName, for: {ex.Message}");
    }
}
