using System.Text.Json;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Ops;

/// <summary>Joining, slicing, indexing, comparisons and reductions against PyTorch 1.13 (Fixtures/tensor_ops.json:
/// values, and input gradients for a random output gradient, with ties and zero rows where the gradient rules differ),
/// against numerical gradients, and their errors.</summary>
[TestFixture]
public class TensorOpTests
{
    // The same cases as make_tensor_op_fixtures.py, by name; each takes the fixture's inputs in order.
    private static readonly Dictionary<string, Func<Tensor[], Tensor[]>> Cases = new()
    {
        ["cat_0"] = t => [MiniNet.Ops.Cat([t[0], t[1]], 0)],
        ["cat_1"] = t => [MiniNet.Ops.Cat([t[0], t[1], t[2]], 1)],
        ["cat_-1_3d"] = t => [MiniNet.Ops.Cat([t[0], t[1]], -1)],
        ["stack_1"] = t => [MiniNet.Ops.Stack([t[0], t[1], t[2]], 1)],
        ["stack_-1"] = t => [MiniNet.Ops.Stack([t[0], t[1]], -1)],
        ["narrow_1"] = t => [t[0].Narrow(1, 1, 3)],
        ["narrow_0_neg"] = t => [t[0].Narrow(0, -2, 2)],
        ["split_3"] = t => t[0].Split(3, 0),
        ["split_sizes"] = t => t[0].Split([1, 3, 2], 1),
        ["chunk_3"] = t => t[0].Chunk(3, 0),
        ["chunk_4_of_6"] = t => t[0].Chunk(4, 0),
        ["unsqueeze_squeeze"] = t => [t[0].Squeeze(1).Unsqueeze(0).Unsqueeze(-1) * 2f],
        ["expand"] = t => [t[0].Expand(2, 3, 4)],
        ["expand_keep"] = t => [t[0].Expand(3, -1)],
        ["repeat"] = t => [t[0].Repeat(2, 1, 2)],
        ["index_select_1"] = t => [t[0].IndexSelect(1, t[1])],
        ["index_select_0"] = t => [t[0].IndexSelect(0, t[1])],
        ["gather_1"] = t => [t[0].Gather(1, t[1])],
        ["gather_0"] = t => [t[0].Gather(0, t[1])],
        ["index_rows"] = t => [t[0][t[1]]],
        ["index_mask"] = t => [t[0][t[1]]],
        ["index_mask_full"] = t => [t[0][t[1]]],
        ["where"] = t => [MiniNet.Ops.Where(t[0], t[1], t[2])],
        ["masked_fill"] = t => [t[0].MaskedFill(t[1], -1.5f)],
        ["maximum"] = t => [t[0].Maximum(t[1])],
        ["minimum"] = t => [t[0].Minimum(t[1])],
        ["max_dim1"] = t => [t[0].Max(1).Values],
        ["min_dim0_keep"] = t => [t[0].Min(0, keepDim: true).Values],
        ["max_all_ties"] = t => [t[0].Max()],
        ["min_all_ties"] = t => [t[0].Min()],
        ["std_all"] = t => [t[0].Std()],
        ["std_axis_biased"] = t => [t[0].Std(1, unbiased: false)],
        ["std_axes_keep"] = t => [t[0].Std([0, 2], keepDim: true)],
        ["norm2_all"] = t => [t[0].Norm()],
        ["norm2_rows_zero"] = t => [t[0].Norm([1])],
        ["norm1_axis"] = t => [t[0].Norm([0], p: 1f)],
        ["norm3_keep"] = t => [t[0].Norm([1], p: 3f, keepDim: true)],
        ["norminf_axes"] = t => [t[0].Norm([0, 2], p: float.PositiveInfinity)],
        ["norminf_ties"] = t => [t[0].Norm([1], p: float.PositiveInfinity)],
        ["std_constant_row"] = t => [t[0].Std(1)],
        ["std_all_constant"] = t => [t[0].Std()],
        ["norm3_zero_row"] = t => [t[0].Norm([1], p: 3f)],
        ["norm_half_zero_elements"] = t => [t[0].Norm([1], p: 0.5f)],
        ["norm1_5_zero_elements"] = t => [t[0].Norm([1], p: 1.5f)],
        ["chunk_empty_axis"] = t => t[0].Chunk(3, 0),
        // Values only (no gradient).
        ["gt"] = t => [t[0] > t[1]],
        ["ge"] = t => [t[0] >= t[1]],
        ["lt_scalar"] = t => [t[0] < 0.5],
        ["le_scalar"] = t => [t[0].Le(0.5)],
        ["eq"] = t => [t[0].Eq(t[1])],
        ["ne_scalar"] = t => [t[0].Ne(3.0)],
        ["eq_int64"] = t => [t[0].Eq(t[1])],
        ["gt_int64_float"] = t => [t[0] > 1.5],
        ["argmax_1"] = t => [t[0].ArgMaxTensor(1)],
        ["argmin_0_keep"] = t => [t[0].ArgMinTensor(0, keepDim: true)],
        ["one_hot"] = t => [t[0].OneHot()],
        ["one_hot_5"] = t => [t[0].OneHot(5)],
        ["index_select_int64"] = t => [t[0].IndexSelect(0, t[1])],
        ["cat_int64"] = t => [MiniNet.Ops.Cat([t[0], t[1]])],
        ["logical"] = t => [t[0].LogicalAnd(t[1]).LogicalOr(t[1].LogicalNot())],
    };

    private static IEnumerable<string> Names => Cases.Keys;

    [TestCaseSource(nameof(Names))]
    public void ValuesAndGradients_MatchPyTorch(string name)
    {
        JsonElement fixture = Fixture.Load("tensor_ops.json").GetProperty(name);
        Tensor[] inputs = fixture.GetProperty("inputs").EnumerateArray().Select(Decode).ToArray();
        foreach (Tensor input in inputs) if (input.DType == DType.Float32) input.RequiresGrad = true;
        Tensor[] outputs = Cases[name](inputs);
        JsonElement[] expected = fixture.GetProperty("outputs").EnumerateArray().ToArray();
        Assert.That(outputs, Has.Length.EqualTo(expected.Length), "number of outputs");
        for (int k = 0; k < outputs.Length; k++) AssertEqual(outputs[k], Decode(expected[k]), $"output {k}");
        if (!fixture.TryGetProperty("dys", out JsonElement dys)) return;

        Tensor loss = Tensor.Scalar(0f);
        JsonElement[] dy = dys.EnumerateArray().ToArray();
        for (int k = 0; k < outputs.Length; k++) loss = loss + (outputs[k] * Decode(dy[k])).Sum();
        loss.Backward();
        JsonElement[] grads = fixture.GetProperty("grads").EnumerateArray().ToArray();
        for (int i = 0; i < inputs.Length; i++)
        {
            if (grads[i].ValueKind == JsonValueKind.Null) continue;
            Assert.That(inputs[i].Grad, Is.Not.Null, $"gradient of input {i}");
            AssertEqual(inputs[i].Grad!, Decode(grads[i]), $"gradient of input {i}");
        }
    }

    private static readonly Tensor Rows = Tensor.FromInt64Array([2, 0, 2, 1], 4), Picks = Tensor.FromInt64Array([3, 0, 1, 1, 2, 2], 3, 2);
    private static readonly Tensor Mask = TestData.Distinct([3, 4], 4) > 0.0;

    // Compositions of the ops on a (3, 4) and b (4). a is a ramp of odd multiples of 0.185 and b holds even ones, so
    // Maximum and Minimum meet no tie (a kink) within the numerical step; |a| has ties, as the inf-norm's rule needs.
    private static readonly (string Name, Func<Tensor[], Tensor> F)[] Compositions =
    [
        ("cat_narrow", v => MiniNet.Ops.Cat([v[0], v[1].Unsqueeze(0)], 0).Narrow(1, 1, 2).Square().Sum()),
        ("stack_chunk", v => MiniNet.Ops.Stack([v[0], v[0] * v[0]], 1).Chunk(3, 2)[0].Sum()),
        ("index_select_expand_repeat", v => v[0].IndexSelect(0, Rows).Expand(2, 4, 4).Repeat(1, 2, 1).Square().Sum()),
        ("gather_index", v => v[0].Gather(1, Picks).Square().Sum() + v[0][Rows].Sum()),
        ("where", v => MiniNet.Ops.Where(Mask, v[0], v[1]).Square().Sum()),
        ("maximum_minimum", v => v[0].Maximum(v[1]).Sum() + v[0].Minimum(v[1]).Square().Sum()),
        ("min_max", v => v[0].Min(1).Values.Square().Sum() + v[0].Max().Square()),
        ("std", v => v[0].Std([1]).Sum() + v[0].Std()),
        ("norms", v => v[0].Norm() + v[0].Norm([0], 3f).Sum() + v[0].Norm([1], 1f).Square().Sum()),
        ("norm_inf", v => v[0].Norm(float.PositiveInfinity) + v[0].Norm([1], float.PositiveInfinity).Sum()),
    ];

    private static IEnumerable<string> CompositionNames => Compositions.Select(c => c.Name);

    [TestCaseSource(nameof(CompositionNames))]
    public void Backward_RandomInputs_MatchNumericalGradients(string name) =>
        TensorAssert.GradientsMatch(Compositions.Single(c => c.Name == name).F, TestData.Distinct([3, 4], 1), Tensor.FromArray([0.37f, -0.74f, 1.11f, -1.48f], 4));

    [Test]
    public void IntegerAndBoolTensors_JoinSliceAndIndex()
    {
        Tensor labels = Tensor.FromInt64Array([3, 1, 4, 1, 5, 9], 2, 3);
        Assert.That(labels.Narrow(1, 1, 2).ToInt64Array(), Is.EqualTo(new long[] { 1, 4, 5, 9 }));
        Assert.That(MiniNet.Ops.Stack([labels, labels], 0).Shape, Is.EqualTo(new[] { 2, 2, 3 }));
        Assert.That(labels.Reshape(-1).Unsqueeze(0).Squeeze().ToInt64Array(), Is.EqualTo(labels.ToInt64Array()));
        Assert.That(labels[labels.Gt(2).Narrow(1, 0, 1).Squeeze(1)].ToInt64Array(), Is.EqualTo(new long[] { 3, 1, 4 }), "row 0 only: 3 > 2, 1 ≤ 2");
        Assert.That(labels.Gather(1, Tensor.FromInt64Array([2, 0], 2, 1)).ToInt64Array(), Is.EqualTo(new long[] { 4, 1 }));
        Tensor mask = labels.Eq(1);
        Assert.That(mask.DType, Is.EqualTo(DType.Bool));
        Assert.That(mask.CountNonzero(), Is.EqualTo(2));
        Assert.That(MiniNet.Ops.Where(mask, labels, Tensor.FromInt64Array([0L], 1)).ToInt64Array(), Is.EqualTo(new long[] { 0, 1, 0, 1, 0, 0 }));
        Assert.That(mask.Split(1, 1).Select(m => m.CountNonzero()), Is.EqualTo(new long[] { 1, 1, 0 }));
    }

    [Test]
    public void Accuracy_FromArgMaxTensorAndLabels()
    {
        Tensor logits = Tensor.FromArray([0.1f, 2f, -1f, 3f, 0f, 1f, 0f, 0f, 5f], 3, 3);
        Tensor labels = Tensor.FromInt64Array(new[] { 1, 2, 2 }, 3);
        Assert.That(logits.ArgMaxTensor(1).Eq(labels).CountNonzero(), Is.EqualTo(2));
        Assert.That(logits.ArgMaxTensor(1).ToInt64Array(), Is.EqualTo(logits.ArgMax(1).Select(i => (long)i)));
        // Without an axis, as PyTorch's argmax(): the index in the flattened tensor.
        Tensor flat = logits.ArgMaxTensor();
        Assert.That((flat.Rank, flat.ToInt64Array()[0]), Is.EqualTo((0, (long)Array.IndexOf(logits.ToArray(), logits.ToArray().Max()))));
        Assert.That(logits.ArgMinTensor().ToInt64Array()[0], Is.EqualTo((long)Array.IndexOf(logits.ToArray(), logits.ToArray().Min())));
    }

    [Test]
    public void MaxIndices_AreTheCallersToChange_TheBackwardKeepsItsOwn()
    {
        Tensor x = Tensor.FromArray([1f, 5f, 3f, 7f, 2f, 0f], 2, 3);
        x.RequiresGrad = true;
        (Tensor values, int[] indices) = x.Max(1);
        Assert.That(indices, Is.EqualTo(new[] { 1, 0 }));
        indices[0] = 2;
        values.Sum().Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new float[] { 0, 1, 0, 1, 0, 0 }));
    }

    [Test]
    public void Views_ShareStorage_AndCopiesDoNot()
    {
        Tensor x = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        Tensor view = x.Unsqueeze(0), slice = x.Narrow(1, 0, 2);
        x.Data[0] = 10f;
        Assert.That(view.ToArray()[0], Is.EqualTo(10f), "Unsqueeze is a view, like Reshape");
        Assert.That(slice.ToArray()[0], Is.EqualTo(1f), "Narrow copies");
    }

    [Test]
    public void EmptyPieces_AndZeroLengthSlices_HaveTheirShapes()
    {
        Tensor x = TestData.Uniform([0, 3], 1);
        Assert.That(MiniNet.Ops.Cat([x, TestData.Uniform([2, 3], 2)]).Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(TestData.Uniform([4, 3], 3).Narrow(0, 4, 0).Shape, Is.EqualTo(new[] { 0, 3 }));
        Assert.That(TestData.Uniform([4, 3], 3).IndexSelect(0, Tensor.Zeros(DType.Int64, 0)).Shape, Is.EqualTo(new[] { 0, 3 }));
        Assert.That(TestData.Uniform([0], 3).Split(2), Has.Length.EqualTo(1));
    }

    [Test]
    public void BadArguments_NameTheShapeOrIndex()
    {
        Tensor x = TestData.Uniform([3, 4], 1);
        Tensor index = Tensor.FromInt64Array([0L, 4L], 2);
        Assert.Multiple(() =>
        {
            Assert.That(() => MiniNet.Ops.Cat([x, TestData.Uniform([3, 5], 2)]),
                Throws.ArgumentException.With.Message.Contains("(3, 5)").And.Property("ParamName").EqualTo("tensors"));
            Assert.That(() => MiniNet.Ops.Cat(Array.Empty<Tensor>()), Throws.ArgumentException);
            Assert.That(() => MiniNet.Ops.Cat([x, Tensor.FromInt64Array([1L], 1, 1)], 1), Throws.ArgumentException.With.Message.Contains("Int64"));
            Assert.That(() => MiniNet.Ops.Stack([x, TestData.Uniform([4, 3], 2)]), Throws.ArgumentException.With.Message.Contains("(4, 3)"));
            Assert.That(() => x.Narrow(1, 2, 3), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("length"));
            Assert.That(() => x.Narrow(1, 5, 0), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("start"));
            Assert.That(() => x.Split([1, 1], 0), Throws.ArgumentException.With.Message.Contains("add up to 2"));
            Assert.That(() => x.Split(0), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("splitSize"));
            Assert.That(() => x.Chunk(0), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("chunks"));
            Assert.That(() => x.Expand(3, 5), Throws.ArgumentException.With.Message.Contains("(3, 5)"));
            Assert.That(() => x.Repeat(2), Throws.ArgumentException.With.Property("ParamName").EqualTo("repeats"));
            Assert.That(() => x.IndexSelect(1, index), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("index 4 at position 1"));
            Assert.That(() => x.IndexSelect(0, Tensor.FromInt64Array([-1L], 1)), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => x.IndexSelect(0, Tensor.From(0f)), Throws.ArgumentException.With.Message.Contains("int64"));
            Assert.That(() => x[Tensor.FromInt64Array([-4L], 1)], Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("-4"));
            Assert.That(() => x[Tensor.FromBoolArray([true, false], 2)], Throws.ArgumentException.With.Message.Contains("(2)"));
            Assert.That(() => x.Gather(1, Tensor.FromInt64Array([0L], 1)), Throws.ArgumentException.With.Message.Contains("rank"));
            Assert.That(() => x.Gather(1, Tensor.FromInt64Array([0L, 9L], 1, 2)), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("index 9"));
            Assert.That(() => MiniNet.Ops.Where(x, x, x), Throws.ArgumentException.With.Property("ParamName").EqualTo("condition"));
            Assert.That(() => Tensor.FromInt64Array([0L, -1L], 2).OneHot(3), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("label -1 at position 1"));
            Assert.That(() => Tensor.FromInt64Array([3L], 1).OneHot(3), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("0..2"));
            Assert.That(() => x.LogicalNot(), Throws.ArgumentException.With.Message.Contains("bool"));
            Assert.That(() => x.Norm(0f), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("p"));
            Assert.That(() => x.Max(1).Values.Narrow(0, 0, 0).Max(), Throws.ArgumentException.With.Message.Contains("no elements"));
            Assert.That(() => x.Gt(TestData.Uniform([2], 1)), Throws.ArgumentException.With.Message.Contains("(3, 4)"));
        });
    }

    private static Tensor Decode(JsonElement e)
    {
        int[] shape = e.GetProperty("shape").Ints();
        JsonElement values = e.GetProperty("values");
        return e.GetProperty("dtype").GetString() switch
        {
            "float32" => Tensor.FromArray(values.Floats(), shape),
            "int64" => Tensor.FromInt64Array(values.EnumerateArray().Select(v => v.GetInt64()).ToArray(), shape),
            _ => Tensor.FromBoolArray(values.EnumerateArray().Select(v => v.GetInt32() != 0).ToArray(), shape),
        };
    }

    private static void AssertEqual(Tensor actual, Tensor expected, string what)
    {
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), $"{what}: shape");
        Assert.That(actual.DType, Is.EqualTo(expected.DType), $"{what}: dtype");
        switch (actual.DType)
        {
            case DType.Float32: TensorAssert.Close(actual.Data, expected.Data, atol: 1e-6f, rtol: 2e-6f, what: what); break;
            case DType.Int64: Assert.That(actual.ToInt64Array(), Is.EqualTo(expected.ToInt64Array()), what); break;
            default: Assert.That(actual.ToBoolArray(), Is.EqualTo(expected.ToBoolArray()), what); break;
        }
    }
}
