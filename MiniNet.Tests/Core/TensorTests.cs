using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core;

[TestFixture]
public class TensorTests
{
    [Test]
    public void FromArray_ShapeAndValues_RoundTrip()
    {
        var t = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        Assert.That(t.Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(t.Numel, Is.EqualTo(6));
        Assert.That(t.ToArray(), Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6 }));
        Assert.That(t[1, 2], Is.EqualTo(6f));
        Assert.That(t[-1, 0], Is.EqualTo(4f));
    }

    [Test]
    public void FromArray_CopiesData_CallerArrayUnaffected()
    {
        float[] data = [1, 2];
        var t = Tensor.FromArray(data, 2);
        t.Data[0] = 9;
        Assert.That(data[0], Is.EqualTo(1f));
    }

    [Test]
    public void FromArray_WrongCount_ThrowsNamingShape()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.FromArray([1, 2, 3], 2, 2));
        Assert.That(ex!.Message, Does.Contain("(2, 2)").And.Contain("3"));
    }

    [Test]
    public void Factories_FillAsNamed()
    {
        Assert.That(Tensor.Zeros(2, 2).ToArray(), Is.All.EqualTo(0f));
        Assert.That(Tensor.Ones(3).ToArray(), Is.All.EqualTo(1f));
        Assert.That(Tensor.Full([2, 3], 2.5f).ToArray(), Is.All.EqualTo(2.5f));
        Assert.That(Tensor.Full([2, 3], 2.5f).Shape, Is.EqualTo(new[] { 2, 3 }));
    }

    [Test]
    public void Randn_SameSeed_SameValues_DifferentSeed_Differs()
    {
        float[] a = Tensor.Randn([100], seed: 7).ToArray();
        float[] b = Tensor.Randn([100], seed: 7).ToArray();
        float[] c = Tensor.Randn([100], seed: 8).ToArray();
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a, Is.Not.EqualTo(c));
    }

    [Test]
    public void Randn_ManySamples_HaveUnitMoments()
    {
        float[] v = Tensor.Randn([200_000], seed: 1).ToArray();
        double mean = v.Average(), variance = v.Select(x => (x - mean) * (x - mean)).Average();
        Assert.That(mean, Is.EqualTo(0).Within(0.01));
        Assert.That(variance, Is.EqualTo(1).Within(0.01));
    }

    [Test]
    public void Randn_FromGenerator_AdvancesTheGenerator()
    {
        var rng = Rng.Create(3);
        float[] first = Tensor.Randn([5], rng).ToArray();
        float[] second = Tensor.Randn([5], rng).ToArray();
        Assert.That(first, Is.Not.EqualTo(second));
        Assert.That(first, Is.EqualTo(Tensor.Randn([5], Rng.Create(3)).ToArray()));
    }

    [Test]
    public void ManualSeed_ResetsDefaultGenerator()
    {
        Rng.ManualSeed(42);
        float[] a = Tensor.Rand(10).ToArray();
        Rng.ManualSeed(42);
        Assert.That(Tensor.Rand(10).ToArray(), Is.EqualTo(a));
    }

    [Test]
    public void Rand_ValuesInHalfOpenUnitInterval()
    {
        float[] v = Tensor.Rand([10_000], seed: 2).ToArray();
        Assert.That(v, Is.All.GreaterThanOrEqualTo(0f).And.All.LessThan(1f));
        Assert.That(v.Average(), Is.EqualTo(0.5).Within(0.02));
    }

    [Test]
    public void Item_OneElement_ReturnsIt_OtherwiseThrows()
    {
        Assert.That(Tensor.Scalar(3f).Item(), Is.EqualTo(3f));
        Assert.That(Tensor.Ones(1, 1).Item(), Is.EqualTo(1f));
        var ex = Assert.Throws<InvalidOperationException>(() => Tensor.Ones(2).Item());
        Assert.That(ex!.Message, Does.Contain("(2)"));
    }

    [Test]
    public void Indexer_OutOfRange_Throws()
    {
        var t = Tensor.Zeros(2, 3);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _ = t[2, 0]);
        Assert.That(e!.ParamName, Is.EqualTo("indices"));
        Assert.That(e.Message, Does.Contain("(2, 3)"));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = t[1])!.ParamName, Is.EqualTo("indices"));
        t[1, 1] = 5f;
        Assert.That(t.ToArray()[4], Is.EqualTo(5f));
    }

    /// <summary>A shape whose element count overflows is reported as given (not with a dimension shown as 0); a shape
    /// with a zero dimension holds no elements however large the others are, and is a valid empty tensor.</summary>
    [Test]
    public void Shapes_OverflowIsReportedWhole_ZeroElementShapesAreValid()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(65536, 32768, 2));
        Assert.That(e!.Message, Does.Contain("(65536, 32768, 2)").And.Contain("more elements than a tensor can hold"));
        Assert.That(e.ParamName, Is.EqualTo("shape"));
        Tensor empty = Tensor.Zeros(int.MaxValue, 0);
        Assert.That(empty.Shape, Is.EqualTo(new[] { int.MaxValue, 0 }));
        Assert.That(empty.Numel, Is.EqualTo(0));
        Assert.That(Tensor.Zeros(0, 5).Reshape(5, 0, 3).Shape, Is.EqualTo(new[] { 5, 0, 3 }));
        Assert.That(Assert.Throws<ArgumentException>(() => Tensor.Zeros(-1))!.Message, Does.Contain("(-1)"));
    }

    [Test]
    public void ToString_ShowsShapeAndLeadingValues()
    {
        string s = Tensor.FromArray([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 2, 5).ToString();
        Assert.That(s, Does.StartWith("Tensor(2, 5) [1, 2, 3"));
        Assert.That(s, Does.Contain("…"));
        Assert.That(s, Does.Not.Contain("10"));
    }

    [Test]
    public void Detach_SharesValuesButNotGraph()
    {
        var x = Tensor.Ones(2);
        x.RequiresGrad = true;
        Tensor y = x * 2f;
        Tensor d = y.Detach();
        Assert.That(d.RequiresGrad, Is.False);
        Assert.That(d.IsLeaf, Is.True);
        Assert.That(d.ToArray(), Is.EqualTo(new float[] { 2, 2 }));
    }

    [Test]
    public void RequiresGrad_SetOnNonLeaf_Throws()
    {
        var x = Tensor.Ones(2);
        x.RequiresGrad = true;
        Tensor y = x.Exp();
        var ex = Assert.Throws<InvalidOperationException>(() => y.RequiresGrad = false);
        Assert.That(ex!.Message, Does.Contain("exp"));
    }

    [Test]
    public void Parameter_RequiresGradAndSharesStorage()
    {
        var t = Tensor.Zeros(3);
        var p = new Parameter(t);
        Assert.That(p.RequiresGrad, Is.True);
        p.Data[0] = 1f;
        Assert.That(t[0], Is.EqualTo(1f));
    }
}
