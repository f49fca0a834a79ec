using MiniNet.Layers;
using MiniNet.Optim;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Memory;

[TestFixture]
public class TensorScopeTests
{
    [Test]
    public void OpOutputs_AreReleasedAtTheEnd_AndSayHowToKeepThem()
    {
        Tensor x = TestData.Uniform([4, 300], 1);
        Tensor y;
        using (TensorScope.Begin()) y = x.Relu();
        Assert.That(y.IsAlive, Is.False);
        var ex = Assert.Throws<ObjectDisposedException>(() => y.ToArray());
        Assert.That(ex!.Message, Does.Contain("TensorScope").And.Contain("Keep()"));
        Assert.That(x.IsAlive, Is.True, "inputs created outside are untouched");
        Assert.That(y.ToString(), Does.Contain("released"));
    }

    [Test]
    public void Keep_AndLeavesCreatedInside_Survive()
    {
        Tensor x = TestData.Uniform([4, 300], 2);
        Tensor kept, leaf, viewKept;
        using (TensorScope.Begin())
        {
            kept = x.Exp().Keep();
            leaf = Tensor.Zeros(3);
            viewKept = x.Sigmoid().Reshape(1200).Keep();
        }
        Assert.That(kept.ToArray(), Is.EqualTo(x.Exp().ToArray()));
        Assert.That(leaf.IsAlive, Is.True);
        Assert.That(viewKept.ToArray(), Is.EqualTo(x.Sigmoid().ToArray()), "keeping a view keeps the storage it shares");
    }

    [Test]
    public void ViewsOfScopedTensors_AreReleasedToo()
    {
        Tensor x = TestData.Uniform([4, 300], 3), view;
        using (TensorScope.Begin()) view = x.Tanh().Reshape(2, 600);
        Assert.Throws<ObjectDisposedException>(() => view.ToArray());
        Tensor detached;
        using (TensorScope.Begin()) detached = x.Detach();
        Assert.That(detached.IsAlive, Is.True, "a view of an ordinary tensor is not the scope's to release");
    }

    [Test]
    public void Empty_IsAnOpOutput_ScopedInsideAScope()
    {
        Tensor outside = Tensor.Empty(2, 3), inside;
        Assert.That(outside.Shape, Is.EqualTo(new[] { 2, 3 }));
        using (TensorScope.Begin()) inside = Tensor.Empty(4, 300);
        Assert.That(outside.IsAlive, Is.True);
        Assert.That(inside.IsAlive, Is.False);
        Assert.Throws<ArgumentException>(() => Tensor.Empty(-1, 2));
    }

    [Test]
    public void Storage_IsReusedByTheNextStep()
    {
        Tensor x = TestData.Uniform([8, 512], 4);
        float[] first;
        using (TensorScope.Begin()) first = x.Relu().Storage;
        using (TensorScope.Begin()) Assert.That(x.Relu().Storage, Is.SameAs(first));
    }

    [Test]
    public void TrainingInsideScopes_MatchesTrainingWithout_AndKeepsLeafGradients()
    {
        float[] Train(bool scoped)
        {
            Rng.ManualSeed(5);
            var model = new Sequential(new Dense(20, 64, bias: false), new BatchNorm1d(64), new ReLU(), new Dense(64, 3));
            var opt = new SGD(model.Parameters(), 0.1f, momentum: 0.9f);
            Tensor x = TestData.Uniform([32, 20], 6);
            int[] y = Enumerable.Range(0, 32).Select(i => i % 3).ToArray();
            for (int step = 0; step < 5; step++)
            {
                using TensorScope? scope = scoped ? TensorScope.Begin() : null;
                opt.ZeroGrad();
                model.Forward(x).CrossEntropy(y).Backward();
                opt.Step();
            }
            Assert.That(model.Parameters().All(p => p.Grad!.IsAlive), Is.True);
            return model.Parameters().SelectMany(p => p.ToArray()).ToArray();
        }
        Assert.That(Train(scoped: true), Is.EqualTo(Train(scoped: false)));
    }

    [Test]
    public void SteadyStateTrainingStep_AllocatesNoActivationBuffers()
    {
        // Each activation is 256×512 floats (512 KB); a step creates several and their gradients.
        var model = new Sequential(new Dense(512, 512, bias: false), new BatchNorm1d(512), new ReLU(), new Dense(512, 10));
        var opt = new SGD(model.Parameters(), 0.01f, momentum: 0.9f);
        Tensor x = TestData.Uniform([256, 512], 7);
        int[] y = Enumerable.Range(0, 256).Select(i => i % 10).ToArray();
        void Step()
        {
            using var scope = TensorScope.Begin();
            opt.ZeroGrad();
            model.Forward(x).CrossEntropy(y).Backward();
            opt.Step();
        }
        for (int i = 0; i < 3; i++) Step();   // fills the pool
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < 10; i++) Step();
        long perStep = (GC.GetTotalAllocatedBytes(precise: true) - before) / 10;
        Assert.That(perStep, Is.LessThan(128 * 1024), "only small graph bookkeeping is allocated per step");
    }

    [Test]
    public void Scopes_Nest_AndMustCloseInOrder()
    {
        Tensor x = TestData.Uniform([4, 300], 8), inner, outer;
        var a = TensorScope.Begin();
        outer = x.Exp();
        var b = TensorScope.Begin();
        inner = x.Exp();
        Assert.Throws<InvalidOperationException>(a.Dispose);
        b.Dispose();
        Assert.That(inner.IsAlive, Is.False);
        Assert.That(outer.IsAlive, Is.True);
        a.Dispose();
        Assert.That(outer.IsAlive, Is.False);
    }
}

[TestFixture]
public class TensorScopeReleaseRuleTests
{
    [Test]
    public void EveryOpOutput_IncludingAOneElementLoss_IsReleasedWithItsScope()
    {
        var w = new Parameter(Tensor.Randn([3, 4], seed: 1));
        Tensor loss, sum, small;
        using (TensorScope.Begin())
        {
            Tensor logits = Tensor.Randn([2, 4], seed: 2).Linear(w);
            loss = logits.CrossEntropy([0, 2]);
            sum = logits.Sum();
            small = logits * 2f;
            loss.Backward();
        }
        Assert.Throws<ObjectDisposedException>(() => loss.Item(), "a scalar loss read after its scope ended");
        Assert.Throws<ObjectDisposedException>(() => sum.Item());
        Assert.Throws<ObjectDisposedException>(() => small.ToArray(), "a six-element output, below the pooled sizes");
        Assert.That(w.Grad!.ToArray(), Has.Length.EqualTo(12), "a leaf's gradient is not scoped");
    }

    /// <summary>Runs <paramref name="body"/> on a thread of its own (its scopes, left open on purpose, die with it) with
    /// MiniNet's logger capturing; returns the warnings.</summary>
    private static List<string> WarningsOf(Action body)
    {
        var logger = new CapturingLogger();
        var saved = MiniNetLogging.Logger;
        MiniNetLogging.Logger = logger;
        TensorScope.ResetWarnings();
        try
        {
            Exception? error = null;
            var thread = new Thread(() => { try { body(); } catch (Exception e) { error = e; } });
            thread.Start();
            thread.Join();
            if (error is not null) throw error;
        }
        finally
        {
            MiniNetLogging.Logger = saved;
            TensorScope.ResetWarnings();
        }
        return logger.Entries.Where(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning).Select(e => e.Message).ToList();
    }

    [Test]
    public void ScopeBegunEveryStepWithoutUsing_WarnsOnce()
    {
        Tensor x = TestData.Uniform([4, 8], 20);
        List<string> warnings = WarningsOf(() =>
        {
            for (int step = 0; step < 200; step++)
            {
                TensorScope.Begin();   // the mistake: no using, never disposed
                x.Relu();
            }
        });
        Assert.That(warnings, Has.Count.EqualTo(1), "once, not once per step");
        Assert.That(warnings[0], Does.Contain($"{TensorScope.SuspiciousDepth + 1} scopes are open").And.Contain("using var step = TensorScope.Begin();"));
    }

    [Test]
    public void NestedScopes_AndScopesDisposedEachStep_DoNotWarn()
    {
        Tensor x = TestData.Uniform([4, 8], 21);
        List<string> warnings = WarningsOf(() =>
        {
            for (int step = 0; step < 200; step++)
            {
                using var outer = TensorScope.Begin();
                using var inner = TensorScope.Begin();
                x.Relu();
            }
        });
        Assert.That(warnings, Is.Empty);
    }

    [Test]
    public void OneScopeSpanningManySteps_WarnsOnce()
    {
        Tensor x = Tensor.Zeros(1);
        List<string> warnings = WarningsOf(() =>
        {
            using var everything = TensorScope.Begin();   // the mistake: one scope around the whole loop
            for (int step = 0; step < TensorScope.SuspiciousCount + 10; step++) x.Relu();
        });
        Assert.That(warnings, Has.Count.EqualTo(1));
        Assert.That(warnings[0], Does.Contain("one scope holds").And.Contain("Begin one per step"));
    }
}
