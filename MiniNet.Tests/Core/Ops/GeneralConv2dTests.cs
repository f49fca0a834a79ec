using System.Text.Json;
using MiniNet.Kernels.Reference;
using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Ops;

/// <summary>Convolution with groups, dilation, per-axis strides and padding, and padding "same": against PyTorch 1.13
/// (Fixtures/conv_general.json, written by make_conv_fixtures.py), the direct loops and numerical gradients.</summary>
[TestFixture]
public class GeneralConv2dTests
{
    private static IEnumerable<string> Names => Fixture.Load("conv_general.json").EnumerateObject().Select(p => p.Name).ToArray();

    private static (int, int) Pair(JsonElement args, string key, int missing)
    {
        if (!args.TryGetProperty(key, out JsonElement value)) return (missing, missing);
        return value.ValueKind == JsonValueKind.Array ? (value[0].GetInt32(), value[1].GetInt32()) : (value.GetInt32(), value.GetInt32());
    }

    /// <summary>The op as the case's arguments call it, and the layer built the same way.</summary>
    private static (Func<Tensor, Tensor, Tensor?, Tensor> Op, Func<int, int, (int, int), bool, Conv2d> Layer) Call(JsonElement args)
    {
        (int, int) stride = Pair(args, "stride", 1), dilation = Pair(args, "dilation", 1);
        int groups = args.TryGetProperty("groups", out JsonElement g) ? g.GetInt32() : 1;
        if (args.TryGetProperty("padding", out JsonElement p) && p.ValueKind == JsonValueKind.String)
        {
            string name = p.GetString()!;
            return ((x, w, b) => x.Conv2d(w, b, name, stride.Item1, dilation.Item1, groups),
                (cin, cout, k, bias) => new Conv2d(cin, cout, k, name, bias: bias, dilation: dilation, groups: groups));
        }
        (int, int) padding = Pair(args, "padding", 0);
        return ((x, w, b) => x.Conv2d(w, b, stride, padding, dilation, groups),
            (cin, cout, k, bias) => new Conv2d(cin, cout, k, stride, padding, bias: bias, dilation: dilation, groups: groups));
    }

    [TestCaseSource(nameof(Names))]
    public void OpAndLayer_MatchPyTorch(string name)
    {
        JsonElement f = Fixture.Load("conv_general.json").GetProperty(name);
        Tensor x = Tensor.FromArray(f.GetProperty("x").Floats(), f.GetProperty("x_shape").Ints());
        int[] ws = f.GetProperty("w_shape").Ints();
        Tensor w = Tensor.FromArray(f.GetProperty("w").Floats(), ws);
        Tensor? b = f.GetProperty("b").ValueKind == JsonValueKind.Null ? null : Tensor.FromArray(f.GetProperty("b").Floats(), ws[0]);
        foreach (Tensor t in new[] { x, w, b }.OfType<Tensor>()) t.RequiresGrad = true;
        (var op, var layerOf) = Call(f.GetProperty("args"));

        Tensor y = op(x, w, b);
        int[] yShape = f.GetProperty("y_shape").Ints();
        TensorAssert.Close(y, f.GetProperty("y").Floats(), yShape, atol: 1e-4f, rtol: 1e-4f);
        (y * Tensor.FromArray(f.GetProperty("dy").Floats(), yShape)).Sum().Backward();
        TensorAssert.Close(x.Grad!.Data, f.GetProperty("dx").Floats(), atol: 1e-4f, rtol: 1e-4f, what: "dx");
        TensorAssert.Close(w.Grad!.Data, f.GetProperty("dw").Floats(), atol: 1e-4f, rtol: 1e-4f, what: "dw");
        if (b is not null) TensorAssert.Close(b.Grad!.Data, f.GetProperty("db").Floats(), atol: 1e-4f, rtol: 1e-4f, what: "db");

        // The layer with the same options and weights gives the same output.
        int groups = x.Shape[1] / ws[1];
        Conv2d layer = layerOf(x.Shape[1], ws[0], (ws[2], ws[3]), b is not null);
        Assert.That(layer.Weight.Shape, Is.EqualTo(ws), "weight (out, in/groups, kH, kW)");
        Assert.That(layer.Groups, Is.EqualTo(groups));
        w.Data.CopyTo(layer.Weight.Data);
        if (b is not null) b.Data.CopyTo(layer.Bias!.Data);
        using (MiniNet.Autograd.NoGrad()) TensorAssert.Close(layer.Call(x), f.GetProperty("y").Floats(), yShape, atol: 1e-4f, rtol: 1e-4f);
    }

    [TestCase(2, 4, 6, 5, 4, 3, 2, 1, 2, 1, 1, 0, 1, 2, 2)]
    [TestCase(3, 6, 7, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 6)]    // depthwise
    [TestCase(1, 2, 8, 8, 3, 2, 3, 2, 2, 0, 3, 1, 2, 1, 1)]    // asymmetric padding, as "same" pads an even kernel
    [TestCase(2, 4, 5, 5, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 4)]    // grouped 1×1
    public void MatchesDirectLoops(int n, int c, int h, int w, int o, int kh, int kw, int sh, int sw, int top, int left, int bottom,
        int right, int dilation, int groups)
    {
        Tensor x = TestData.Uniform([n, c, h, w], 1), weight = TestData.Uniform([o, c / groups, kh, kw], 2), bias = TestData.Uniform([o], 3);
        Tensor y = x.Conv2d(weight, bias, (sh, sw), (top, left, bottom, right), (dilation, dilation), groups);
        float[] expected = ConvReference.GeneralForward(x.ToArray(), n, c, h, w, weight.ToArray(), o, kh, kw, bias.ToArray(),
            sh, sw, top, left, bottom, right, dilation, dilation, groups, out int oh, out int ow);
        TensorAssert.Close(y, expected, [n, o, oh, ow], atol: 1e-5f, rtol: 1e-4f);
    }

    [Test]
    public void Gradients_MatchNumerical()
    {
        TensorAssert.GradientsMatch(v => v[0].Conv2d(v[1], v[2], (2, 1), (1, 2), (1, 2), groups: 2),
            TestData.Uniform([2, 4, 5, 6], 4), TestData.Uniform([2, 2, 3, 2], 5), TestData.Uniform([2], 6));
        TensorAssert.GradientsMatch(v => v[0].Conv2d(v[1], null, "same", groups: 3),
            TestData.Uniform([1, 3, 4, 5], 7), TestData.Uniform([3, 1, 2, 4], 8));
    }

    [NonParallelizable]   // changes the global thread count for a moment
    [Test]
    public void ThreadedPath_EqualsOneThreadBitwise()
    {
        Tensor x = TestData.Uniform([7, 16, 24, 24], 11), w = TestData.Uniform([16, 1, 3, 3], 12), upstream = TestData.Uniform([7, 16, 24, 24], 13);
        (float[], float[], float[]) Run()
        {
            Tensor xi = x.Clone(), wi = w.Clone();
            xi.RequiresGrad = wi.RequiresGrad = true;
            Tensor y = xi.Conv2d(wi, null, "same", groups: 16);
            (y * upstream).Sum().Backward();
            return (y.ToArray(), xi.Grad!.ToArray(), wi.Grad!.ToArray());
        }
        var threaded = Run();
        int saved = Threads.MaxCount;
        Threads.MaxCount = 1;
        try
        {
            Assert.That(Run(), Is.EqualTo(threaded));
        }
        finally
        {
            Threads.MaxCount = saved;
        }
    }

    [Test]
    public void PlainOptions_TakeTheTunedPath_BitwiseAlike()
    {
        Tensor x = TestData.Uniform([2, 3, 8, 8], 14), w = TestData.Uniform([4, 3, 3, 3], 15);
        Assert.That(x.Conv2d(w, null, (2, 2), (1, 1)).ToArray(), Is.EqualTo(x.Conv2d(w, null, 2, 1).ToArray()));
        Assert.That(x.Conv2d(w, null, "same").ToArray(), Is.EqualTo(x.Conv2d(w, null, 1, 1).ToArray()));
        Assert.That(new Conv2d(3, 4, 3, padding: "same").IsPlain, Is.True);
        Assert.That(new Conv2d(3, 4, 4, padding: "same").Padding, Is.EqualTo((1, 1, 2, 2)), "the odd pixel after, as PyTorch");
    }

    [Test]
    public void NonPlainLayers_RunUnfused_AndFreezeCopiesThem()
    {
        Rng.ManualSeed(3);
        var net = new Sequential(new Conv2d(4, 4, 3, padding: 1, groups: 4, bias: false), new BatchNorm2d(4), new ReLU(),
            new Conv2d(4, 6, 3, padding: "same", dilation: 2, bias: false), new BatchNorm2d(6), new ReLU());
        Tensor x = TestData.Uniform([3, 4, 6, 6], 16);
        net.Call(x);
        net.Eval();
        Tensor expected;
        using (MiniNet.Autograd.NoGrad()) expected = Enumerable.Range(0, 6).Aggregate(x, (v, i) => net[i].Call(v));
        using (MiniNet.Autograd.NoGrad())
        {
            TensorAssert.Close(net.Call(x), expected.ToArray(), atol: 1e-6f);
            TensorAssert.Close(net.Freeze().Call(x), expected.ToArray(), atol: 1e-6f);
        }
    }

    [Test]
    public void BadArguments_NameWhatIsWrong()
    {
        Tensor x = Tensor.Zeros(1, 4, 5, 5);
        Assert.Multiple(() =>
        {
            Assert.That(() => x.Conv2d(Tensor.Zeros(6, 2, 3, 3), null, (1, 1), (0, 0), groups: 3),
                Throws.ArgumentException.With.Message.Contains("3 groups must divide"));
            Assert.That(() => x.Conv2d(Tensor.Zeros(6, 3, 3, 3), null, (1, 1), (0, 0), groups: 2),
                Throws.ArgumentException.With.Message.Contains("2 input channels per group, not 3"));
            Assert.That(() => x.Conv2d(Tensor.Zeros(2, 4, 3, 3), null, (1, 1), (0, 0), (3, 3)),
                Throws.ArgumentException.With.Message.Contains("dilated kernel 7×7").And.Message.Contains("5×5"));
            Assert.That(() => x.Conv2d(Tensor.Zeros(2, 4, 3, 3), null, "same", stride: 2), Throws.ArgumentException.With.Message.Contains("stride 1"));
            Assert.That(() => x.Conv2d(Tensor.Zeros(2, 4, 3, 3), null, "full"), Throws.ArgumentException.With.Message.Contains("\"full\""));
            Assert.That(() => x.Conv2d(Tensor.Zeros(2, 4, 3, 3), null, (0, 1), (0, 0)), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("stride"));
            Assert.That(() => new Conv2d(4, 6, 3, groups: 4), Throws.ArgumentException.With.Message.Contains("4 groups must divide"));
            Assert.That(() => new Conv2d(4, 6, (3, 0)), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("kernelSize"));
            Assert.That(() => new Conv2d(4, 6, 3, padding: -1), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("padding"));
        });
    }
}
