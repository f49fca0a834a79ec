using MiniNet.Layers;
using MiniNet.Optim;

namespace MiniNet.Tests.Layers;

/// <summary><see cref="Module.Clone"/>: a deep copy whose fields point at its own parameters, buffers and children.</summary>
[TestFixture]
public class CloneTests
{
    private static int[] Bits(Tensor t) => t.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>A block that keeps its children in fields, an array and a list, and one module twice.</summary>
    private sealed class Block : Module
    {
        private readonly Dense _first, _second;
        private readonly Module[] _chain;
        private readonly List<BatchNorm1d> _norms = [];
        public Block()
        {
            _first = RegisterModule("first", new Dense(4, 6, bias: false));
            _norms.Add(RegisterModule("norm", new BatchNorm1d(6)));
            _second = RegisterModule("second", new Dense(6, 3));
            _chain = [_first, _norms[0], RegisterModule("relu", new ReLU()), _second];
            Scale = RegisterParameter("scale", Tensor.Ones(3));
            Unregistered = Tensor.Full([3], 2f);
        }

        public Parameter Scale { get; }
        public Tensor Unregistered { get; }
        public Dense First => _first;
        public IReadOnlyList<Module> Chain => _chain;
        public BatchNorm1d Norm => _norms[0];
        public override Tensor Forward(Tensor x) => Fusion.Forward(x, _chain) * Scale * Unregistered;
    }

    [Test]
    public void Clone_CopiesEveryTensor_AndPointsTheCopysFieldsAtItsOwn()
    {
        Rng.ManualSeed(3);
        var block = new Block();
        var copy = (Block)block.Clone();
        Assert.That(copy.StateDict().Keys, Is.EqualTo(block.StateDict().Keys));
        foreach (var ((_, a), (_, b)) in copy.StateDict().Zip(block.StateDict()))
        {
            Assert.That(a, Is.Not.SameAs(b));
            Assert.That(Bits(a), Is.EqualTo(Bits(b)));
        }
        Assert.That(copy.First, Is.SameAs(copy.Children().First()), "a field refers to the copy's registered child");
        Assert.That(copy.Chain[0], Is.SameAs(copy.First), "so does an array of them");
        Assert.That(copy.Chain[1], Is.SameAs(copy.Norm), "and a list");
        Assert.That(copy.Chain[2], Is.SameAs(copy.NamedChildren().Single(c => c.Name == "relu").Module), "each element of the array");
        Assert.That(copy.Scale, Is.SameAs(copy.Parameters().Single(p => p.Shape.SequenceEqual([3]) && p.ToArray().All(v => v == 1f))));
        Assert.That(copy.Unregistered, Is.Not.SameAs(block.Unregistered));
        Assert.That(copy.Parameters().All(p => p.RequiresGrad), Is.True);

        var x = Tensor.Randn([8, 4], seed: 4);
        Assert.That(Bits(copy.Forward(x)), Is.EqualTo(Bits(block.Forward(x))), "the copy computes what the original does");
    }

    [Test]
    public void TrainingTheOriginal_DoesNotReachTheCopy_AndTheCopyKeepsItsMode()
    {
        Rng.ManualSeed(5);
        var model = new Sequential(new Dense(4, 8, bias: false), new BatchNorm1d(8), new ReLU(), new Dense(8, 3));
        model.Eval();
        Module copy = model.Clone();
        Assert.That(copy.Training, Is.False);
        var x = Tensor.Randn([16, 4], seed: 6);
        float[] before;
        using (Autograd.NoGrad()) before = copy.Forward(x).ToArray();

        model.Train();
        var optimizer = new SGD(model.Parameters(), lr: 0.5f);
        model.Forward(x).CrossEntropy(Enumerable.Range(0, 16).Select(i => i % 3).ToArray()).Backward();
        optimizer.Step();
        Assert.That(copy.Parameters().All(p => p.Grad is null), Is.True, "gradients are not copied or shared");
        using (Autograd.NoGrad()) Assert.That(copy.Forward(x).ToArray(), Is.EqualTo(before));
        Assert.That(copy.StateDict()["1.num_batches_tracked"].Item(), Is.EqualTo(0f));
    }

    [Test]
    public void Clone_KeepsASharedModuleShared_AndDropsHooksAndObservers()
    {
        var shared = new Dense(3, 3);
        var model = new Sequential(shared, new ReLU(), shared, new BatchNorm1d(3));
        int hooks = 0, observed = 0;
        using var hook = shared.RegisterForwardHook((_, _, _) => hooks++);
        using var observer = ((BatchNorm1d)model[3]).ObserveBatchStatistics((_, _, _) => observed++);
        var copy = (Sequential)model.Clone();
        Assert.That(copy[0], Is.SameAs(copy[2]), "one module used twice stays one module");
        Assert.That(copy[0], Is.Not.SameAs(shared));
        copy.Forward(Tensor.Randn([5, 3], seed: 7));
        Assert.That(hooks, Is.Zero, "forward hooks belong to the original");
        Assert.That(observed, Is.Zero, "statistics observers too");
        Assert.That(((BatchNorm1d)copy[3]).UsesBatchStatistics, Is.True, "training mode, not an observer");
        model.Forward(Tensor.Randn([5, 3], seed: 7));
        Assert.That((hooks, observed), Is.EqualTo((2, 1)), "the original's still run");
    }
}

/// <summary>Clone's corner cases: modules held in fields but not registered, and a frozen model's plan.</summary>
[TestFixture]
public class CloneCornerCaseTests
{
    private sealed class Tied : Module
    {
        public Tied()
        {
            Inner = RegisterModule("inner", new Dense(3, 3));
            Helper = new Echo(this);   // not registered, refers back to its owner and to a registered parameter
        }

        public Dense Inner { get; }
        [NotRegistered] public Echo Helper { get; }
        public override Tensor Forward(Tensor x) => Helper.Forward(x);
    }

    private sealed class Echo(Tied owner) : Module
    {
        public Tied Owner { get; } = owner;
        public Parameter Tied { get; } = owner.Inner.Weight;
        public override Tensor Forward(Tensor x) => x.Linear(Tied);
    }

    [Test]
    public void UnregisteredModules_AreCopiedOnce_KeepingWhatTheyShare()
    {
        var model = new Tied();
        var copy = (Tied)model.Clone();
        Assert.That(copy.Helper, Is.Not.SameAs(model.Helper));
        Assert.That(copy.Helper.Owner, Is.SameAs(copy), "a reference back to the owner points at the copy (no endless recursion)");
        Assert.That(copy.Helper.Tied, Is.SameAs(copy.Inner.Weight), "a tied weight stays tied");
    }

    [Test]
    public void ClonedFrozenModel_PlansItsOwnSteps()
    {
        var model = new Sequential(new LayerNorm(4), new Dense(4, 2));
        model.Eval();
        FrozenSequential frozen = model.Freeze();
        var copy = (FrozenSequential)frozen.Clone();
        Assert.That(copy.Plan.Select(p => p.Step), Is.EqualTo(copy.Steps));
        Assert.That(copy.Steps.Zip(frozen.Steps).All(p => !ReferenceEquals(p.First, p.Second)), Is.True);
        var x = Tensor.Randn([3, 4], seed: 1);
        using var noGrad = Autograd.NoGrad();
        Assert.That(copy.Forward(x).ToArray(), Is.EqualTo(frozen.Forward(x).ToArray()));
    }
}
