using System.Text.Json;
using MiniNet.Optim;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Optim;

/// <summary>ExponentialLR, LambdaLR, CosineAnnealingWarmRestarts, OneCycleLR, SequentialLR and ReduceLROnPlateau
/// against PyTorch 1.13's rates step by step (Fixtures/schedules.json: two groups starting at 0.1 and 0.02), resuming
/// from a state dict, and their errors.</summary>
[TestFixture]
public class ScheduleTests
{
    private const int Steps = 40;

    private static readonly Dictionary<string, Func<Optimizer, LRScheduler>> Cases = new()
    {
        ["exponential"] = o => new ExponentialLR(o, 0.9f),
        ["lambda_invsqrt"] = o => new LambdaLR(o, e => 1.0 / Math.Sqrt(1 + e)),
        ["warm_restarts"] = o => new CosineAnnealingWarmRestarts(o, 5, etaMin: 0.001f),
        ["warm_restarts_mult2"] = o => new CosineAnnealingWarmRestarts(o, 3, tMult: 2),
        ["one_cycle"] = o => new OneCycleLR(o, maxLr: 0.5f, totalSteps: Steps),
        ["one_cycle_linear_3phase"] = o => new OneCycleLR(o, maxLr: 0.3f, totalSteps: Steps, pctStart: 0.25f, annealStrategy: "linear", threePhase: true),
        ["sequential_warmup_cosine"] = o => new SequentialLR(o,
            [new LinearLR(o, startFactor: 0.1f, totalIters: 5), new CosineAnnealingLR(o, tMax: 20, etaMin: 0.001f)], [5]),
    };

    private static IEnumerable<string> Names => Cases.Keys;

    private static SGD TwoGroups() =>
        new([new ParamGroup([Tensor.Zeros(1)], lr: 0.1f), new ParamGroup([Tensor.Zeros(1)], lr: 0.02f)], lr: 0.1f, momentum: 0.9f);

    private static float[][] Expected(string name) =>
        Fixture.Load("schedules.json").GetProperty(name).EnumerateArray().Select(step => step.Floats()).ToArray();

    private static float[] Rates(Optimizer o) => o.ParamGroups.Select(g => g.Lr).ToArray();

    [TestCaseSource(nameof(Names))]
    public void Rates_MatchPyTorch_StepByStep(string name)
    {
        SGD opt = TwoGroups();
        LRScheduler schedule = Cases[name](opt);
        float[][] expected = Expected(name);
        for (int step = 0; step < expected.Length; step++)
        {
            if (step > 0) schedule.Step();
            TensorAssert.Close(Rates(opt), expected[step], atol: 1e-8f, rtol: 1e-5f, what: $"{name}, step {step}");
        }
    }

    [TestCaseSource(nameof(Names))]
    public void Resume_FromStateDict_ContinuesTheSameRates(string name)
    {
        SGD first = TwoGroups();
        LRScheduler schedule = Cases[name](first);
        for (int i = 0; i < 17; i++) schedule.Step();
        IReadOnlyDictionary<string, double> state = schedule.StateDict();

        SGD second = TwoGroups();
        LRScheduler resumed = Cases[name](second);
        resumed.LoadStateDict(state);
        Assert.That(resumed.LastEpoch, Is.EqualTo(17));
        float[][] expected = Expected(name);
        for (int step = 17; step < expected.Length; step++)
        {
            TensorAssert.Close(Rates(second), expected[step], atol: 1e-8f, rtol: 1e-5f, what: $"{name}, resumed step {step}");
            if (step + 1 < expected.Length) resumed.Step();
        }
    }

    [TestCase("plateau_min")]
    [TestCase("plateau_max_abs_cooldown")]
    public void ReduceLROnPlateau_MatchesPyTorch_AndResumes(string name)
    {
        double[] metric = Fixture.Load("schedules.json").GetProperty("metric").EnumerateArray().Select(m => m.GetDouble()).ToArray();
        Func<Optimizer, ReduceLROnPlateau> make = name == "plateau_min"
            ? o => new ReduceLROnPlateau(o, patience: 2, factor: 0.5f)
            : o => new ReduceLROnPlateau(o, mode: "max", patience: 1, threshold: 0.01f, thresholdMode: "abs", cooldown: 2, minLr: 0.01f);
        float[][] expected = Expected(name);
        SGD opt = TwoGroups();
        ReduceLROnPlateau plateau = make(opt);
        IReadOnlyDictionary<string, double>? middle = null;
        for (int i = 0; i < metric.Length; i++)
        {
            plateau.Step(metric[i]);
            TensorAssert.Close(Rates(opt), expected[i], atol: 1e-8f, rtol: 1e-5f, what: $"{name}, epoch {i + 1}");
            if (i == 9) middle = plateau.StateDict();
        }

        SGD again = TwoGroups();
        ReduceLROnPlateau resumed = make(again);
        resumed.LoadStateDict(middle!);
        for (int i = 10; i < metric.Length; i++)
        {
            resumed.Step(metric[i]);
            TensorAssert.Close(Rates(again), expected[i], atol: 1e-8f, rtol: 1e-5f, what: $"{name}, resumed epoch {i + 1}");
        }
    }

    [Test]
    public void PerStepStepping_WarmupIntoCosine_OverOneRun()
    {
        // Stepped per batch: 3 epochs of 10 batches, a 5-step warm-up into a cosine over the remaining 25.
        SGD opt = TwoGroups();
        var schedule = new SequentialLR(opt, [new LinearLR(opt, 0.2f, 1f, 5), new CosineAnnealingLR(opt, 25)], [5]);
        var rates = new List<float> { opt.ParamGroups[0].Lr };
        for (int batch = 0; batch < 30; batch++) { schedule.Step(); rates.Add(opt.ParamGroups[0].Lr); }
        Assert.That(rates[0], Is.EqualTo(0.02f).Within(1e-7f));
        Assert.That(rates[5], Is.EqualTo(0.1f).Within(1e-7f), "the cosine starts at the full rate");
        Assert.That(rates[30], Is.EqualTo(0f).Within(1e-7f), "and ends at η_min");
        Assert.That(rates.Skip(5), Is.Ordered.Descending);
    }

    [Test]
    public void BadArguments_AndStates_AreRefused()
    {
        SGD opt = TwoGroups();
        Assert.Multiple(() =>
        {
            Assert.That(() => new ExponentialLR(opt, 0f), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("gamma"));
            Assert.That(() => new CosineAnnealingWarmRestarts(opt, 0), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("t0"));
            Assert.That(() => new OneCycleLR(opt, 0.1f, 10, pctStart: 1f), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("pctStart"));
            Assert.That(() => new OneCycleLR(opt, 0.1f, 10, annealStrategy: "cosine"), Throws.ArgumentException.With.Property("ParamName").EqualTo("annealStrategy"));
            Assert.That(() => new OneCycleLR(opt, 0.1f, 4, pctStart: 0.25f), Throws.ArgumentException.With.Message.Contains("without steps"));
            Assert.That(() => new OneCycleLR(opt, 0.1f, 2, pctStart: 0.75f, threePhase: true), Throws.ArgumentException.With.Message.Contains("three phases"));
            Assert.That(() => new SequentialLR(opt, [new StepLR(opt, 2)], [3]), Throws.ArgumentException.With.Message.Contains("need 0 milestones"));
            Assert.That(() => new SequentialLR(opt, [new StepLR(opt, 2), new StepLR(TwoGroups(), 2)], [3]),
                Throws.ArgumentException.With.Message.Contains("schedule 1 (StepLR) is bound to another optimizer"));
            Assert.That(() => new SequentialLR(opt, [new StepLR(opt, 2), new StepLR(opt, 2), new StepLR(opt, 2)], [4, 4]),
                Throws.ArgumentException.With.Message.Contains("increasing"));
            Assert.That(() => new ReduceLROnPlateau(opt, mode: "lowest"), Throws.ArgumentException.With.Property("ParamName").EqualTo("mode"));
            Assert.That(() => new ReduceLROnPlateau(opt, factor: 1f), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("factor"));
            Assert.That(() => new ReduceLROnPlateau(opt).Step(double.NaN), Throws.ArgumentException.With.Message.Contains("NaN"));
            Assert.That(() => new LambdaLR(opt, e => e == 0 ? 1 : double.NaN).Step(), Throws.InvalidOperationException.With.Message.Contains("epoch 1"));
            var cycle = new OneCycleLR(opt, 0.1f, 2);
            cycle.Step(); cycle.Step();
            Assert.That(() => cycle.Step(), Throws.InvalidOperationException.With.Message.Contains("beyond totalSteps 2"));
            Assert.That((cycle.LastEpoch, opt.ParamGroups[0].Lr), Is.EqualTo((2, (float)cycle.RateAt(0.1, 2))), "a refused step changes nothing");
            Assert.That(() => new StepLR(opt, 2).LoadStateDict(new Dictionary<string, double> { ["last_epoch"] = 1.5 }),
                Throws.ArgumentException.With.Message.Contains("non-negative integer"));
            Assert.That(() => new StepLR(opt, 2).LoadStateDict(new Dictionary<string, double> { ["epoch"] = 1 }),
                Throws.ArgumentException.With.Message.Contains("lacks \"last_epoch\""));
            Assert.That(() => new ReduceLROnPlateau(opt).LoadStateDict(new ReduceLROnPlateau(new SGD([Tensor.Zeros(1)], 0.1f)).StateDict()),
                Throws.ArgumentException.With.Message.Contains("lr.1"));
        });
    }
}
