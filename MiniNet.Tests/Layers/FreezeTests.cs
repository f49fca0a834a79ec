using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Layers;

/// <summary><see cref="FrozenLinear"/> and <see cref="Sequential.Freeze"/>: inference snapshots with prepacked weights.</summary>
[TestFixture]
public class FreezeTests
{
    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>Input of <paramref name="batch"/> rows: (batch, inFeatures), or (batch, 1, 28, 28) images when inFeatures is 0.</summary>
    private static Tensor Input(int batch, int inFeatures, int seed) =>
        inFeatures == 0 ? Tensor.Randn([batch, 1, 28, 28], seed: seed) : Tensor.Randn([batch, inFeatures], seed: seed);

    /// <summary>A model trained for a few steps, so that the running statistics and γ, β are far from their defaults.</summary>
    private static Sequential Trained(int inFeatures, params Module[] modules)
    {
        Sequential model = InferenceFusionTests.TrainedOn(Input(64, inFeatures, 5) * 3f + 1f, 3, modules);
        model.Eval();
        return model;
    }

    private static IEnumerable<TestCaseData> Models()
    {
        yield return new TestCaseData("mlp widths", 784, (Func<Module[]>)(() => [new Dense(784, 1024, bias: false), new BatchNorm1d(1024), new ReLU(),
            new Dense(1024, 1024, bias: false), new BatchNorm1d(1024), new ReLU(), new Dense(1024, 10)]));
        yield return new TestCaseData("fig1 widths", 784, (Func<Module[]>)(() => [new Dense(784, 100, bias: false), new BatchNorm1d(100), new Sigmoid(),
            new Dense(100, 100, bias: false), new BatchNorm1d(100), new Sigmoid(), new Dense(100, 10, bias: false)]));
        yield return new TestCaseData("cnn", 0, (Func<Module[]>)(() => [new Conv2d(1, 8, 3, padding: 1, bias: false), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
            new Conv2d(8, 16, 3, padding: 1, bias: false), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Dense(16 * 7 * 7, 32, bias: false), new BatchNorm1d(32), new ReLU(), new Dense(32, 4)]));
        yield return new TestCaseData("conv with bias, sigmoid, stride", 0, (Func<Module[]>)(() => [new Conv2d(1, 6, 5, stride: 2, padding: 2), new Sigmoid(),
            new Conv2d(6, 4, 3), new BatchNorm2d(4, affine: false), new Flatten(), new Dense(4 * 12 * 12, 4)]));
        yield return new TestCaseData("biases, dropout, no affine, nested", 30, (Func<Module[]>)(() => [new Dense(30, 40), new ReLU(), new Dropout(0.5f),
            new Sequential(new Dense(40, 20, bias: false), new BatchNorm1d(20, affine: false)), new Dense(20, 4)]));
    }

    [TestCaseSource(nameof(Models))]
    public void Frozen_EqualsTheModelsInferencePathBitwise_AndTheUnfusedChainClosely(string name, int inFeatures, Func<Module[]> build)
    {
        Rng.ManualSeed(11);
        Sequential model = Trained(inFeatures, build());
        FrozenSequential frozen = model.Freeze();
        foreach (int batch in inFeatures == 0 ? new[] { 65, 1 } : new[] { 1000, 7 })
        {
            var x = Input(batch, inFeatures, 12) * 2f;
            using var noGrad = Autograd.NoGrad();
            float[] actual = frozen.Forward(x).ToArray(), fused = model.Forward(x).ToArray();
            model.FuseForInference = false;
            float[] unfused = model.Forward(x).ToArray();
            model.FuseForInference = true;
            Assert.That(Bits(actual), Is.EqualTo(Bits(fused)), $"{name}, batch {batch}");
            TensorAssert.Close(actual, unfused, atol: 1e-4f, rtol: 1e-4f, what: $"{name}, batch {batch}");
        }
        Assert.That(frozen.Parameters(), Is.Empty);
    }

    [Test]
    public void Freeze_FoldsEachLayerWithItsNormalisationAndActivation()
    {
        var model = new Sequential(new Conv2d(1, 8, 3, padding: 1, bias: false), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
            new Conv2d(8, 16, 3, padding: 1, bias: false), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Dense(16 * 7 * 7, 32, bias: false), new BatchNorm1d(32), new ReLU(), new Dense(32, 4));
        model.Eval();
        IReadOnlyList<object> steps = model.Freeze().Steps;
        Assert.That(steps.Select(step => step.GetType().Name),
            Is.EqualTo(new[] { "FrozenConv2d", "MaxPool2d", "FrozenConv2d", "MaxPool2d", "Flatten", "FrozenLinear", "FrozenLinear" }));
        Assert.That(((FrozenConv2d)steps[0]).Activation, Is.EqualTo(FusedActivation.Relu));
        Assert.That(((FrozenLinear)steps[5]).Activation, Is.EqualTo(FusedActivation.Relu));
    }

    [Test]
    public void Frozen_IsASnapshot_TrainingTheModelFurtherDoesNotReachIt()
    {
        Rng.ManualSeed(13);
        Sequential model = Trained(20, new Dense(20, 8, bias: false), new BatchNorm1d(8), new ReLU(), new Dense(8, 4));
        FrozenSequential frozen = model.Freeze();
        var x = Tensor.Randn([16, 20], seed: 14);
        float[] before;
        using (Autograd.NoGrad()) before = model.Forward(x).ToArray();

        model.Train();
        var optimizer = new MiniNet.Optim.SGD(model.Parameters(), lr: 0.5f);
        model.Forward(x).CrossEntropy(Enumerable.Range(0, 16).Select(i => i % 4).ToArray()).Backward();
        optimizer.Step();   // weights and running statistics move
        model.Eval();

        using var noGrad = Autograd.NoGrad();
        Assert.That(model.Forward(x).ToArray(), Is.Not.EqualTo(before));
        Assert.That(Bits(frozen.Forward(x).ToArray()), Is.EqualTo(Bits(before)));
        Assert.That(Bits(model.Freeze().Forward(x).ToArray()), Is.EqualTo(Bits(model.Forward(x).ToArray())), "freezing again sees the new weights");
    }

    [Test]
    public void Frozen_StaysAnEvaluationSnapshot_WhenTheModelGoesBackToTraining()
    {
        Rng.ManualSeed(17);
        Sequential model = Trained(0, new Conv2d(1, 4, 3, padding: 1, bias: false), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Dropout(0.5f), new Dense(4 * 14 * 14, 8, bias: false), new BatchNorm1d(8), new ReLU(), new Dense(8, 4));
        FrozenSequential frozen = model.Freeze();
        var x = Input(5, 0, 18);
        float[] before;
        using (Autograd.NoGrad()) before = frozen.Forward(x).ToArray();
        int hookRuns = 0;
        using var hook = model[3].RegisterForwardHook((_, _, _) => hookRuns++);

        model.Train();   // Dropout and BatchNorm in training mode now; the weights move
        var optimizer = new MiniNet.Optim.SGD(model.Parameters(), lr: 0.5f);
        model.Forward(Input(16, 0, 19)).CrossEntropy(Enumerable.Range(0, 16).Select(i => i % 4).ToArray()).Backward();
        optimizer.Step();

        using var noGrad = Autograd.NoGrad();
        Assert.That(Bits(frozen.Forward(x).ToArray()), Is.EqualTo(Bits(before)), "first call");
        Assert.That(Bits(frozen.Forward(x).ToArray()), Is.EqualTo(Bits(before)), "second call: no dropout");
        Assert.That(hookRuns, Is.EqualTo(1), "the model's hook ran in its own forward pass only");
        Assert.That(frozen.Steps.OfType<Dropout>(), Is.Empty);
    }

    [Test]
    public void Freeze_RefusesTrainingModeAndMismatchedFeatures_NamingTheModule()
    {
        var training = new Sequential(new Dense(4, 3), new ReLU());
        Assert.That(Assert.Throws<InvalidOperationException>(() => training.Freeze())!.Message, Does.Contain("module 0 (Dense)").And.Contain("Eval()"));

        var mismatched = new Sequential(new Dense(4, 3, bias: false), new BatchNorm1d(5));
        mismatched.Eval();
        Assert.That(Assert.Throws<ArgumentException>(() => mismatched.Freeze())!.Message, Does.Contain("BatchNorm1d(5)").And.Contain("3 outputs"));
        var mismatchedConv = new Sequential(new Conv2d(1, 3, 3, bias: false), new BatchNorm2d(5));
        mismatchedConv.Eval();
        Assert.That(Assert.Throws<ArgumentException>(() => mismatchedConv.Freeze())!.Message, Does.Contain("BatchNorm2d(5)").And.Contain("3 outputs"));
    }

    /// <summary>A LayerNorm, a lone BatchNorm (also inside a nested Sequential) and a BatchNorm without running
    /// statistics cannot be folded: each is carried as a deep copy, the plan says so, the output is the model's, and
    /// training the original further does not reach the copies.</summary>
    [TestCaseSource(nameof(Unfoldable))]
    public void Freeze_CarriesWhatItCannotFold_AsADeepCopy(string name, int inFeatures, Func<Module[]> build, string[] copied)
    {
        Rng.ManualSeed(31);
        Sequential model = Trained(inFeatures, build());
        FrozenSequential frozen = model.Freeze();
        Assert.That(frozen.Plan.Where(p => p.Action == FreezeAction.Copied).Select(p => string.Join(",", p.Modules)), Is.EqualTo(copied), name);
        Assert.That(frozen.Plan.SelectMany(p => p.Modules).Count(), Is.EqualTo(model.Modules().Count(m => m is not Sequential)), "every module is accounted for");
        foreach (FrozenStep step in frozen.Plan.Where(p => p.Action == FreezeAction.Copied))
        {
            Module original = model.NamedModules().Single(m => m.Name == step.Modules[0]).Module;
            Assert.That(step.Step, Is.Not.SameAs(original));
            Assert.That(step.Step!.GetType(), Is.EqualTo(original.GetType()));
            Assert.That(step.Step.Training, Is.False);
            Assert.That(step.Step.StateDict().Values.Zip(original.StateDict().Values).All(p => !ReferenceEquals(p.First, p.Second)), Is.True,
                "parameters and buffers are copies");
            Assert.That(step.Step.Parameters().All(p => !p.RequiresGrad), Is.True, "a frozen copy needs no gradient");
        }
        Assert.That(frozen.Parameters(), Is.Empty);
        Assert.That(frozen.ToString(), Does.Contain("[copied]").And.Contain("[folded]"));

        var x = Input(13, inFeatures, 32) * 2f;
        float[] before;
        using (Autograd.NoGrad())
        {
            before = frozen.Forward(x).ToArray();
            Assert.That(Bits(before), Is.EqualTo(Bits(model.Forward(x).ToArray())), "the model's own inference path, bitwise");
        }
        model.Train();
        var optimizer = new MiniNet.Optim.SGD(model.Parameters(), lr: 0.5f);
        model.Forward(Input(16, inFeatures, 33)).CrossEntropy(Enumerable.Range(0, 16).Select(i => i % 4).ToArray()).Backward();
        optimizer.Step();   // weights and running statistics of the originals move
        using (Autograd.NoGrad()) Assert.That(Bits(frozen.Forward(x).ToArray()), Is.EqualTo(Bits(before)), "the copies are a snapshot");
    }

    private static IEnumerable<TestCaseData> Unfoldable()
    {
        yield return new TestCaseData("layer norm", 4, (Func<Module[]>)(() => [new LayerNorm(4), new Dense(4, 4)]), new[] { "0" });
        yield return new TestCaseData("lone batch norm", 4, (Func<Module[]>)(() => [new Dense(4, 3), new ReLU(), new BatchNorm1d(3), new Dense(3, 4)]),
            new[] { "2" });
        yield return new TestCaseData("nested lone batch norm", 0, (Func<Module[]>)(() =>
            [new Conv2d(1, 3, 3), new Sequential(new ReLU(), new BatchNorm2d(3)), new Flatten(), new Dense(3 * 26 * 26, 4)]), new[] { "1.1", "2" });
        yield return new TestCaseData("untracked batch norm", 4, (Func<Module[]>)(() =>
            [new Dense(4, 3, bias: false), new BatchNorm1d(3, trackRunningStats: false), new ReLU(), new Dense(3, 4)]), new[] { "1", "2" });
    }

    [Test]
    public void Frozen_ChecksItsInput_AndRecordsNoGraph()
    {
        Rng.ManualSeed(15);
        var model = new Sequential(new Dense(6, 5, bias: false), new BatchNorm1d(5), new ReLU(), new Dense(5, 2));
        model.Eval();
        FrozenSequential frozen = model.Freeze();
        Assert.That(Assert.Throws<ArgumentException>(() => frozen.Forward(Tensor.Zeros([3, 7])))!.Message, Does.Contain("(…, 6)").And.Contain("(3, 7)"));
        Assert.That(Assert.Throws<ArgumentException>(() => frozen.Forward(Tensor.Zeros([3, 4, 6])))!.Message, Does.Contain("BatchNorm1d").And.Contain("(3, 4, 6)"));
        var conv = new Sequential(new Conv2d(2, 3, 3, bias: false), new BatchNorm2d(3), new ReLU());
        conv.Eval();
        Assert.That(Assert.Throws<ArgumentException>(() => conv.Freeze().Forward(Tensor.Zeros([1, 5, 8, 8])))!.Message,
            Does.StartWith("FrozenSequential: step 0 (FrozenConv2d(2 → 3").And.Contain("has 5 channels"));
        var x = Tensor.Randn([3, 6], seed: 16);
        x.RequiresGrad = true;
        Assert.That(Assert.Throws<InvalidOperationException>(() => frozen.Forward(x))!.Message, Does.Contain("NoGrad"));
        Tensor y = frozen.Forward(Tensor.Randn([3, 6], seed: 17));   // gradient recording on, input without grad: fine
        Assert.That(y.RequiresGrad, Is.False);
        Assert.That(y.Shape, Is.EqualTo(new[] { 3, 2 }));
    }

    [Test]
    public void FrozenLinear_EqualsLinearAffineBitwise_OnAnyLeadingShape()
    {
        var w = Tensor.Randn([300, 200], seed: 18);
        var b = Tensor.Randn([300], seed: 19);
        float[] scale = TestData.Array(300, 20), shift = TestData.Array(300, 21);
        using var noGrad = Autograd.NoGrad();
        foreach (FusedActivation act in Enum.GetValues<FusedActivation>())
        {
            var frozen = new FrozenLinear(w, b, scale, shift, act);
            foreach (int[] shape in new[] { new[] { 500, 200 }, new[] { 4, 5, 200 }, new[] { 200 } })
            {
                var x = Tensor.Randn(shape, seed: 22);
                Tensor y = frozen.Forward(x);
                Assert.That(y.Shape, Is.EqualTo(shape[..^1].Append(300).ToArray()));
                Assert.That(Bits(y.ToArray()), Is.EqualTo(Bits(x.LinearAffine(w, b, scale, shift, act).ToArray())), $"{act}, {string.Join('x', shape)}");
            }
        }
        // Without scale and shift: the Linear op.
        var x2 = Tensor.Randn([9, 200], seed: 23);
        Assert.That(Bits(new FrozenLinear(w, b).Forward(x2).ToArray()), Is.EqualTo(Bits(x2.Linear(w, b).ToArray())));
        Assert.Throws<ArgumentException>(() => new FrozenLinear(w, Tensor.Zeros([299])));
        Assert.Throws<ArgumentException>(() => new FrozenLinear(w, b, scale, shift.AsSpan(1), FusedActivation.None));
    }

    [Test]
    public void FrozenConv2d_ChecksItsArguments_NamingTheOffendingShapeOrValue()
    {
        Tensor w = Tensor.Randn([4, 3, 3, 3], seed: 24);
        float[] s = [1f, 2f, 3f, 4f], t = new float[4];
        Assert.That(Assert.Throws<ArgumentException>(() => new FrozenConv2d(Tensor.Zeros([4, 27]), null, s, t, FusedActivation.None))!.Message,
            Does.StartWith("FrozenConv2d:").And.Contain("(4, 27)"));
        Assert.That(Assert.Throws<ArgumentException>(() => new FrozenConv2d(w, Tensor.Zeros([3]), s, t, FusedActivation.None))!.Message,
            Does.Contain("bias must have shape (4)").And.Contain("(3)"));
        Assert.That(Assert.Throws<ArgumentException>(() => new FrozenConv2d(w, null, s.AsSpan(1), t, FusedActivation.None))!.Message,
            Does.Contain("4 values each").And.Contain("got 3 and 4"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrozenConv2d(w, null, s, t, (FusedActivation)9));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new FrozenConv2d(w, null, s, t, FusedActivation.None, stride: 0))!.Message,
            Does.Contain("stride"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new FrozenConv2d(w, null, s, t, FusedActivation.None, padding: -1))!.Message,
            Does.Contain("padding"));
    }
}
