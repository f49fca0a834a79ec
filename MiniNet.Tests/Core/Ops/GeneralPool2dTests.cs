using System.Text.Json;
using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Ops;

/// <summary>Pooling with ceil_mode, count_include_pad and per-axis kernel, stride and padding against PyTorch 1.13
/// (Fixtures/pool_general.json, written by make_pool_fixtures.py), through the ops and the layers.</summary>
[TestFixture]
public class GeneralPool2dTests
{
    private static IEnumerable<string> Names => Fixture.Load("pool_general.json").EnumerateObject().Select(p => p.Name).ToArray();

    private static (int, int)? Pair(JsonElement args, string key)
    {
        if (!args.TryGetProperty(key, out JsonElement value)) return null;
        return value.ValueKind == JsonValueKind.Array ? (value[0].GetInt32(), value[1].GetInt32()) : (value.GetInt32(), value.GetInt32());
    }

    [TestCaseSource(nameof(Names))]
    public void OpAndLayer_MatchPyTorch(string name)
    {
        JsonElement f = Fixture.Load("pool_general.json").GetProperty(name), args = f.GetProperty("args");
        Tensor x = Tensor.FromArray(f.GetProperty("x").Floats(), f.GetProperty("x_shape").Ints());
        x.RequiresGrad = true;
        (int, int) kernel = Pair(args, "kernel_size")!.Value;
        (int, int)? stride = Pair(args, "stride"), padding = Pair(args, "padding");
        bool ceil = args.TryGetProperty("ceil_mode", out JsonElement c) && c.GetBoolean();
        bool countPad = !args.TryGetProperty("count_include_pad", out JsonElement p) || p.GetBoolean();
        bool max = f.GetProperty("kind").GetString() == "max";

        Tensor y = max ? x.MaxPool2d(kernel, stride, padding, ceil) : x.AvgPool2d(kernel, stride, padding, ceil, countPad);
        int[] yShape = f.GetProperty("y_shape").Ints();
        TensorAssert.Close(y, f.GetProperty("y").Floats(), yShape, atol: 1e-6f, rtol: 1e-5f);
        (y * Tensor.FromArray(f.GetProperty("dy").Floats(), yShape)).Sum().Backward();
        TensorAssert.Close(x.Grad!.Data, f.GetProperty("dx").Floats(), atol: 1e-6f, rtol: 1e-5f, what: "dx");

        Module layer = max ? new MaxPool2d(kernel, stride, padding, ceil) : new AvgPool2d(kernel, stride, padding, ceil, countPad);
        using (MiniNet.Autograd.NoGrad()) TensorAssert.Close(layer.Call(x), f.GetProperty("y").Floats(), yShape, atol: 1e-6f, rtol: 1e-5f);
    }

    [Test]
    public void Gradients_MatchNumerical()
    {
        TensorAssert.GradientsMatch(v => v[0].AvgPool2d((3, 2), (2, 2), (1, 0), ceilMode: true, countIncludePad: false), TestData.Uniform([1, 2, 6, 5], 1));
        TensorAssert.GradientsMatch(v => v[0].MaxPool2d((2, 3), (2, 1), (1, 1), ceilMode: true), TestData.Distinct([1, 2, 5, 6], 2));
    }

    [Test]
    public void CeilMode_TwoByTwoOnOddSides_KeepsThePartialWindows_WithAndWithoutGraph()
    {
        Tensor x = TestData.Uniform([2, 3, 5, 7], 3);
        Tensor recorded = x.MaxPool2d(2, ceilMode: true);
        Assert.That(recorded.Shape, Is.EqualTo(new[] { 2, 3, 3, 4 }));
        Assert.That(x.MaxPool2d(2).Shape, Is.EqualTo(new[] { 2, 3, 2, 3 }));
        x.RequiresGrad = true;
        Assert.That(x.MaxPool2d(2, ceilMode: true).ToArray(), Is.EqualTo(recorded.ToArray()));
    }

    [Test]
    public void Layers_DescribeAndRefuse()
    {
        Assert.That(new MaxPool2d((2, 3), padding: (1, 1), ceilMode: true).ToString(), Does.Contain("kernel: (2, 3)").And.Contain("ceilMode: true"));
        Assert.That(new AvgPool2d(3, countIncludePad: false).ToString(), Does.Contain("countIncludePad: false"));
        Assert.That(() => new MaxPool2d((2, 2), padding: (1, 2)), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("padding"));
        Assert.That(() => Tensor.Zeros(1, 1, 4, 4).AvgPool2d((2, 0)), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("kernel"));
    }
}
