using System.Text.Json;
using MiniNet.Layers;
using MiniNet.Optim;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Optim;

[TestFixture]
public class OptimizerTests
{
    private static readonly JsonElement Data = Fixture.Load("optim.json");

    private static Tensor[] InitialParameters()
    {
        int[][] shapes = Data.GetProperty("shapes").EnumerateArray().Select(s => s.Ints()).ToArray();
        return Data.GetProperty("initial").EnumerateArray().Select((v, i) =>
        {
            var p = Tensor.FromArray(v.Floats(), shapes[i]);
            p.RequiresGrad = true;
            return p;
        }).ToArray();
    }

    private static Optimizer Make(string name, Tensor[] p) => name switch
    {
        "sgd" => new SGD(p, lr: 0.1f),
        "sgd_momentum" => new SGD(p, lr: 0.1f, momentum: 0.9f),
        "sgd_dampening_wd" => new SGD(p, lr: 0.05f, momentum: 0.9f, dampening: 0.1f, weightDecay: 0.01f),
        "sgd_nesterov_wd" => new SGD(p, lr: 0.05f, momentum: 0.9f, weightDecay: 0.05f, nesterov: true),
        "sgd_groups" => new SGD([new ParamGroup([p[0]], lr: 0.1f), new ParamGroup([p[1]], lr: 0.01f)], lr: 0.1f, momentum: 0.5f),
        "adam" => new Adam(p, lr: 0.01f),
        "adam_wd_amsgrad" => new Adam(p, lr: 0.02f, beta1: 0.8f, beta2: 0.99f, eps: 1e-6f, weightDecay: 0.1f, amsgrad: true),
        "adamw" => new AdamW(p, lr: 0.01f, weightDecay: 0.1f),
        "adam_maximize" => new Adam(p, lr: 0.01f, weightDecay: 0.1f, maximize: true),
        "adamw_maximize_amsgrad" => new AdamW(p, lr: 0.01f, amsgrad: true, maximize: true),
        "rmsprop" => new RMSprop(p, lr: 0.01f),
        "rmsprop_centered_momentum_wd" => new RMSprop(p, lr: 0.005f, alpha: 0.9f, eps: 1e-6f, weightDecay: 0.05f, momentum: 0.8f, centered: true),
        "adagrad" => new Adagrad(p, lr: 0.1f),
        "adagrad_decay_wd_init" => new Adagrad(p, lr: 0.1f, lrDecay: 0.05f, weightDecay: 0.1f, initialAccumulatorValue: 0.5f, eps: 1e-6f),
        _ => throw new ArgumentException(name),
    };

    private static IEnumerable<string> Names() => Data.GetProperty("optimizers").EnumerateArray().Select(o => o.GetProperty("name").GetString()!);

    [TestCaseSource(nameof(Names))]
    public void Trajectory_MatchesPyTorch(string name)
    {
        Tensor[] p = InitialParameters();
        Optimizer opt = Make(name, p);
        JsonElement expected = Data.GetProperty("optimizers").EnumerateArray().Single(o => o.GetProperty("name").GetString() == name)
            .GetProperty("after_each_step");
        int step = 0;
        foreach (JsonElement grads in Data.GetProperty("grads").EnumerateArray())
        {
            JsonElement[] g = grads.EnumerateArray().ToArray();
            for (int i = 0; i < p.Length; i++) p[i].Grad = Tensor.FromArray(g[i].Floats(), [.. p[i].Shape]);
            opt.Step();
            JsonElement[] after = expected[step].EnumerateArray().ToArray();
            for (int i = 0; i < p.Length; i++)
                TensorAssert.Close(p[i].Data, after[i].Floats(), atol: 1e-6f, rtol: 1e-5f, what: $"{name} step {step} parameter {i}");
            step++;
        }
    }

    private static int StepCount => Data.GetProperty("grads").GetArrayLength();

    /// <summary>Steps <paramref name="from"/> to <paramref name="to"/> of the fixture's gradients.</summary>
    private static void Run(Tensor[] p, Optimizer opt, int from, int to)
    {
        JsonElement[] grads = Data.GetProperty("grads").EnumerateArray().ToArray();
        for (int s = from; s < to; s++)
        {
            JsonElement[] g = grads[s].EnumerateArray().ToArray();
            for (int i = 0; i < p.Length; i++) p[i].Grad = Tensor.FromArray(g[i].Floats(), [.. p[i].Shape]);
            opt.Step();
        }
    }

    [TestCaseSource(nameof(Names))]
    public void StateDict_RoundTrip_ResumesExactly(string name)
    {
        Tensor[] straight = InitialParameters();
        Run(straight, Make(name, straight), 0, StepCount);

        Tensor[] first = InitialParameters();
        Optimizer a = Make(name, first);
        Run(first, a, 0, 3);
        var saved = a.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        Tensor[] resumed = first.Select(t => { var c = t.Detach().Clone(); c.RequiresGrad = true; return c; }).ToArray();
        Optimizer b = Make(name, resumed);
        b.LoadStateDict(saved);
        Run(resumed, b, 3, StepCount);
        for (int i = 0; i < straight.Length; i++) Assert.That(resumed[i].ToArray(), Is.EqualTo(straight[i].ToArray()), $"parameter {i}");
    }

    [TestCase("sgd_momentum", "saved by SGD with momentum"), TestCase("adam_wd_amsgrad", "unexpected 'state.0.max_exp_avg_sq'"),
     TestCase("rmsprop_centered_momentum_wd", "saved by RMSprop"), TestCase("adagrad_decay_wd_init", "saved by Adagrad")]
    public void SaveAndLoad_ThroughAFile_ResumesExactly(string name, string intoPlainAdam)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mininet-optim-{Guid.NewGuid():N}.safetensors");
        try
        {
            Tensor[] straight = InitialParameters();
            Run(straight, Make(name, straight), 0, StepCount);
            Tensor[] p = InitialParameters();
            Optimizer a = Make(name, p);
            Run(p, a, 0, 3);
            a.Save(path);
            Optimizer b = Make(name, p);
            b.Load(path);
            Run(p, b, 3, StepCount);
            for (int i = 0; i < p.Length; i++) Assert.That(p[i].ToArray(), Is.EqualTo(straight[i].ToArray()), $"parameter {i}");
            Safetensors.Load(path, out var metadata);
            Assert.That(metadata["optimizer"], Is.EqualTo(a.GetType().Name));
            var wrong = new Adam(InitialParameters());
            Assert.That(() => wrong.Load(path), Throws.ArgumentException.With.Message.Contains(intoPlainAdam));
        }
        finally
        {
            File.Delete(path);
        }
        Assert.That(() => new SGD(InitialParameters(), lr: 0.1f).Load(path), Throws.InstanceOf<FileNotFoundException>());
    }

    [Test]
    public void LoadStateDict_WrongShapeOrKeys_ThrowsAndChangesNothing()
    {
        Tensor[] p = InitialParameters();
        var opt = new SGD(p, lr: 0.1f, momentum: 0.9f);
        var state = opt.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        state["state.0.momentum_buffer"] = Tensor.Ones(2, 3);
        state["bogus"] = Tensor.Ones(1);
        var ex = Assert.Throws<ArgumentException>(() => opt.LoadStateDict(state));
        Assert.That(ex!.Message, Does.Contain("state.0.momentum_buffer").And.Contain("unexpected 'bogus'"));
        Assert.That(opt.StateDict()["state.0.momentum_buffer"].ToArray(), Is.All.EqualTo(0f));
    }

    [Test]
    public void Step_AllocatesNothingInSteadyState()
    {
        Tensor[] p = InitialParameters();
        foreach (Tensor t in p) t.Grad = Tensor.Ones([.. t.Shape]);
        foreach (Optimizer opt in new Optimizer[] { new SGD(p, 0.1f, momentum: 0.9f, weightDecay: 0.1f, nesterov: true), new Adam(p, amsgrad: true), new AdamW(p) })
        {
            opt.Step();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) opt.Step();
            Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.EqualTo(0), opt.GetType().Name);
        }
    }

    [Test]
    public void Step_SkipsParametersWithoutGradients_AndRecordsNoGraph()
    {
        Tensor[] p = InitialParameters();
        float[] before = p[1].ToArray();
        p[0].Grad = Tensor.Ones(3, 2);
        new SGD(p, lr: 0.5f).Step();
        Assert.That(p[1].ToArray(), Is.EqualTo(before));
        Assert.That(p[0].IsLeaf, Is.True);
    }

    [Test]
    public void ZeroGrad_ClearsInPlace()
    {
        Tensor[] p = InitialParameters();
        p[0].Grad = Tensor.Ones(3, 2);
        Tensor g = p[0].Grad!;
        new SGD(p, 0.1f).ZeroGrad();
        Assert.That(p[0].Grad, Is.SameAs(g));
        Assert.That(g.ToArray(), Is.All.EqualTo(0f));
    }

    [Test]
    public void ZeroGrad_SetToNone_NextBackwardWritesFreshGradientsIntoTheSameBuffers()
    {
        // Linear and conv2d weights are written outright by the first backward after set_to_none; the batch-norm
        // affine parameters are cleared on first touch. Either way the gradients equal those of a fresh model.
        Tensor x = TestData.Uniform([4, 2, 5, 5], 1);
        Sequential Build()
        {
            Rng.ManualSeed(3);
            return new Sequential(new Conv2d(2, 3, 3, padding: 1, bias: false), new BatchNorm2d(3), new ReLU(), new Flatten(),
                new Dense(75, 4, bias: false), new BatchNorm1d(4));
        }
        Sequential trained = Build(), fresh = Build();
        var optimizer = new SGD(trained.Parameters(), 0.1f);
        trained.Forward(x).Square().Sum().Backward();   // stale gradients, then dropped
        Tensor[] buffers = trained.Parameters().Select(p => p.Grad!).ToArray();
        optimizer.ZeroGrad(setToNone: true);
        Assert.That(trained.Parameters().All(p => p.Grad is null), Is.True, "set_to_none leaves null gradients");
        trained.Forward(x).Square().Sum().Backward();
        fresh.Forward(x).Square().Sum().Backward();
        Tensor[] got = trained.Parameters().Select(p => p.Grad!).ToArray(), expected = fresh.Parameters().Select(p => p.Grad!).ToArray();
        for (int i = 0; i < got.Length; i++)
        {
            Assert.That(got[i], Is.SameAs(buffers[i]), $"parameter {i} reuses its buffer");
            TensorAssert.Close(got[i], expected[i].ToArray(), [.. expected[i].Shape], atol: 1e-5f, rtol: 1e-5f);
        }
    }

    [Test]
    public void ZeroGrad_SetToNone_ParameterNotReachedKeepsNullAndStepSkipsIt()
    {
        Tensor[] p = InitialParameters();
        p[0].Grad = Tensor.Ones(3, 2);
        var sgd = new SGD(p, 0.1f);
        sgd.ZeroGrad(setToNone: true);
        float[] before = p[0].ToArray();
        sgd.Step();
        Assert.That(p[0].Grad, Is.Null);
        Assert.That(p[0].ToArray(), Is.EqualTo(before));
    }

    [Test]
    public void InvalidHyperparameters_ThrowNamingTheArgument()
    {
        Tensor[] p = InitialParameters();
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SGD(p, lr: 0f))!.ParamName, Is.EqualTo("lr"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SGD(p, 0.1f, momentum: -1f))!.ParamName, Is.EqualTo("momentum"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SGD(p, 0.1f, dampening: float.NaN))!.ParamName, Is.EqualTo("dampening"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SGD(p, 0.1f, weightDecay: -0.1f))!.ParamName, Is.EqualTo("weightDecay"));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new SGD(p, 0.1f, nesterov: true))!.ParamName, Is.EqualTo("nesterov"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Adam(p, beta1: 1f))!.ParamName, Is.EqualTo("beta1"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new AdamW(p, eps: -1f))!.ParamName, Is.EqualTo("eps"));
        Assert.Throws<ArgumentException>(() => _ = new SGD(Array.Empty<Tensor>(), 0.1f));
        Assert.Throws<ArgumentException>(() => _ = new SGD([new ParamGroup([p[0]]), new ParamGroup([p[0]])], 0.1f));
    }

    [Test]
    public void ClipGradNorm_MatchesPyTorch()
    {
        JsonElement clip = Data.GetProperty("clip");
        JsonElement[] grads = clip.GetProperty("grads").EnumerateArray().ToArray();
        Tensor[] p = [Tensor.Zeros(3, 4), Tensor.Zeros(5)];
        for (int i = 0; i < 2; i++) p[i].Grad = Tensor.FromArray(grads[i].Floats(), [.. p[i].Shape]);
        float total = GradientClipping.ClipGradNorm(p, clip.GetProperty("max_norm").GetSingle());
        Assert.That(total, Is.EqualTo(clip.GetProperty("total_norm").GetSingle()).Within(1e-5f));
        JsonElement[] clipped = clip.GetProperty("clipped").EnumerateArray().ToArray();
        for (int i = 0; i < 2; i++) TensorAssert.Close(p[i].Grad!.Data, clipped[i].Floats(), atol: 1e-6f);
    }

    [TestCase("step"), TestCase("multistep"), TestCase("cosine"), TestCase("linear")]
    public void Schedule_MatchesPyTorch(string name)
    {
        var p = Tensor.Zeros(1);
        p.RequiresGrad = true;
        var opt = new SGD([p], lr: 0.1f);
        LRScheduler schedule = name switch
        {
            "step" => new StepLR(opt, stepSize: 3, gamma: 0.5f),
            "multistep" => new MultiStepLR(opt, [2, 5], gamma: 0.1f),
            "cosine" => new CosineAnnealingLR(opt, tMax: 6, etaMin: 0.001f),
            _ => new LinearLR(opt, startFactor: 0.25f, endFactor: 1f, totalIters: 4),
        };
        float[] expected = Data.GetProperty("schedules").EnumerateArray().Single(s => s.GetProperty("name").GetString() == name)
            .GetProperty("lrs").Floats();
        for (int e = 0; e < expected.Length; e++)
        {
            Assert.That(opt.ParamGroups[0].Lr, Is.EqualTo(expected[e]).Within(1e-7f), $"{name} epoch {e}");
            schedule.Step();
        }
        schedule.SetEpoch(2);
        Assert.That(opt.ParamGroups[0].Lr, Is.EqualTo(expected[2]).Within(1e-7f), "SetEpoch resumes");
    }
}

[TestFixture]
public class OptimizerGradientShapeTests
{
    [Test]
    public void Step_WithAGradientOfTheWrongSize_Throws_NamingBothShapes()
    {
        var p = new Parameter(Tensor.Zeros(3, 2));
        p.Grad = Tensor.Ones(5);
        foreach (MiniNet.Optim.Optimizer opt in new MiniNet.Optim.Optimizer[] { new MiniNet.Optim.SGD([p], 0.1f, momentum: 0.9f), new MiniNet.Optim.Adam([p]) })
            Assert.That(Assert.Throws<InvalidOperationException>(() => opt.Step())!.Message, Does.Contain("(3, 2)").And.Contain("(5)"));
        Assert.That(p.ToArray(), Is.All.EqualTo(0f), "nothing was updated");
    }
}

[TestFixture]
public class OptimizerStateOriginTests
{
    [Test]
    public void LoadingAnotherOptimizersState_SaysWhichOptimizerSavedIt()
    {
        var p = new Parameter(Tensor.Zeros(3));
        var sgd = new MiniNet.Optim.SGD([p], 0.1f, momentum: 0.9f);
        var adam = new MiniNet.Optim.Adam([p]);
        var e = Assert.Throws<ArgumentException>(() => adam.LoadStateDict(sgd.StateDict()));
        Assert.That(e!.Message, Does.Contain("saved by SGD with momentum").And.Contain("not by this Adam").And.Contain("Nothing was loaded"));
        e = Assert.Throws<ArgumentException>(() => sgd.LoadStateDict(adam.StateDict()));
        Assert.That(e!.Message, Does.Contain("saved by Adam or AdamW"));
    }
}
