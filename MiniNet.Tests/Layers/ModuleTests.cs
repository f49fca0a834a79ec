using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Layers;

[TestFixture]
public class ModuleTests
{
    private static Sequential BnDnn() => new(
        new Dense(784, 100, bias: false), new BatchNorm1d(100), new Sigmoid(),
        new Dense(100, 100, bias: false), new BatchNorm1d(100), new Sigmoid(),
        new Dense(100, 10, bias: false));

    [Test]
    public void StateDict_UsesPyTorchDottedNamesInOrder()
    {
        Assert.That(BnDnn().StateDict().Keys, Is.EqualTo(new[]
        {
            "0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
            "3.weight", "4.weight", "4.bias", "4.running_mean", "4.running_var", "4.num_batches_tracked", "6.weight",
        }));
    }

    [Test]
    public void Parameters_AreRecursiveInRegistrationOrder_BuffersSeparate()
    {
        Sequential model = BnDnn();
        Assert.That(model.NamedParameters().Select(p => p.Name),
            Is.EqualTo(new[] { "0.weight", "1.weight", "1.bias", "3.weight", "4.weight", "4.bias", "6.weight" }));
        Assert.That(model.Parameters().Sum(p => p.Numel), Is.EqualTo(784 * 100 + 200 + 100 * 100 + 200 + 1000));
        Assert.That(model.Buffers().Count(), Is.EqualTo(6));
        Assert.That(model.Children().Count(), Is.EqualTo(7));
        Assert.That(model.Modules().OfType<BatchNorm>().Count(), Is.EqualTo(2));
    }

    [Test]
    public void TrainAndEval_AreRecursive_AndReturnThis()
    {
        Sequential model = BnDnn();
        Assert.That(model.Eval(), Is.SameAs(model));
        Assert.That(model.Modules().All(m => !m.Training), Is.True);
        Assert.That(model.Train(), Is.SameAs(model));
        Assert.That(model.Modules().All(m => m.Training), Is.True);
    }

    [Test]
    public void ZeroGrad_ClearsEveryParameterGradientInPlace()
    {
        var model = new Sequential(new Dense(3, 2), new ReLU(), new Dense(2, 1));
        model.Forward(TestData.Uniform([4, 3], 1)).Sum().Backward();
        Tensor g = model.Parameters().First().Grad!;
        Assert.That(g.ToArray(), Has.Some.Not.EqualTo(0f));
        model.ZeroGrad();
        Assert.That(model.Parameters().All(p => p.Grad!.ToArray().All(v => v == 0f)), Is.True);
        Assert.That(model.Parameters().First().Grad, Is.SameAs(g));
    }

    [Test]
    public void LoadStateDict_RoundTrip_CopiesValues()
    {
        Sequential a = BnDnn(), b = BnDnn();
        a.Forward(TestData.Uniform([4, 784], 2));   // moves a's running statistics
        b.LoadStateDict(a.StateDict());
        foreach (var (key, tensor) in a.StateDict())
            Assert.That(b.StateDict()[key].ToArray(), Is.EqualTo(tensor.ToArray()), key);
    }

    [Test]
    public void LoadStateDict_ShapeMismatch_ThrowsAndChangesNothing()
    {
        var model = new Sequential(new Dense(3, 2), new BatchNorm1d(2));
        float[] before = model.StateDict()["0.weight"].ToArray();
        var state = new Dictionary<string, Tensor>(model.StateDict().Select(kv => KeyValuePair.Create(kv.Key, kv.Value.Clone())));
        state["0.weight"] = Tensor.Ones(2, 3);
        state["1.running_mean"] = Tensor.Ones(3);
        var ex = Assert.Throws<ArgumentException>(() => model.LoadStateDict(state));
        Assert.That(ex!.Message, Does.Contain("'1.running_mean'").And.Contain("(3)").And.Contain("(2)"));
        Assert.That(model.StateDict()["0.weight"].ToArray(), Is.EqualTo(before));
    }

    [Test]
    public void LoadStateDict_MissingOrUnexpectedKeys_StrictThrows_LenientReports()
    {
        var model = new Sequential(new Dense(3, 2));
        var state = new Dictionary<string, Tensor> { ["0.weight"] = Tensor.Ones(2, 3), ["0.extra"] = Tensor.Ones(1) };
        var ex = Assert.Throws<ArgumentException>(() => model.LoadStateDict(state));
        Assert.That(ex!.Message, Does.Contain("missing keys: 0.bias").And.Contain("unexpected keys: 0.extra"));
        Assert.That(model.StateDict()["0.weight"].ToArray(), Is.Not.All.EqualTo(1f));
        LoadResult result = model.LoadStateDict(state, strict: false);
        Assert.That(result.MissingKeys, Is.EqualTo(new[] { "0.bias" }));
        Assert.That(result.UnexpectedKeys, Is.EqualTo(new[] { "0.extra" }));
        Assert.That(model.StateDict()["0.weight"].ToArray(), Is.All.EqualTo(1f));
    }

    private sealed class TwoNames : Module
    {
        public TwoNames(string second)
        {
            RegisterParameter("w", Tensor.Ones(1));
            RegisterBuffer(second, Tensor.Ones(1));
        }

        public override Tensor Forward(Tensor x) => x;
    }

    [Test]
    public void Register_DuplicateOrDottedName_Throws()
    {
        Assert.Throws<ArgumentException>(() => _ = new TwoNames("w"));
        Assert.Throws<ArgumentException>(() => _ = new TwoNames("a.b"));
        Assert.DoesNotThrow(() => _ = new TwoNames("b"));
    }

    [Test]
    public void ToString_ListsChildren()
    {
        string s = new Sequential(new Dense(3, 2, bias: false), new BatchNorm1d(2)).ToString();
        Assert.That(s, Does.Contain("(0): Dense(3, 2, bias: False)").And.Contain("(1): BatchNorm1d(2"));
    }
}
