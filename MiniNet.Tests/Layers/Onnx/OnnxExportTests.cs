using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MiniNet.Layers;
using MiniNet.Layers.Onnx;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Layers.Onnx;

/// <summary>Every exported model is run by ONNX Runtime 1.32 and compared with MiniNet on the same inputs (batch 1 and
/// 37), within 1e-5 absolute plus 1e-4 relative. With MININET_ONNX_CHECK_DIR set, each file is also kept there for
/// onnx.checker (CI runs it).</summary>
[TestFixture]
public class OnnxExportTests : TempDirectoryTest
{
    /// <summary>A model and one sample's input shape, its BatchNorms given running statistics by a few training passes.</summary>
    private static (Module Model, int[] InputShape) Built(string name)
    {
        Rng.ManualSeed(name.GetHashCode(StringComparison.Ordinal) & 0xFFFF);
        (Module model, int[] shape) = name switch
        {
            "bn_dnn_relu" => ((Module)new Sequential(new Flatten(), new Dense(784, 100, bias: false), new BatchNorm1d(100), new ReLU(),
                new Dense(100, 100, bias: false), new BatchNorm1d(100), new ReLU(), new Dense(100, 10, bias: false)), new[] { 1, 28, 28 }),
            "bn_dnn_sigmoid" => (new Sequential(new Dense(784, 100, bias: false), new BatchNorm1d(100), new Sigmoid(),
                new Dense(100, 100, bias: false), new BatchNorm1d(100), new Sigmoid(), new Dense(100, 10, bias: false)), [784]),
            "bn_cnn" => (new Sequential(
                new Conv2d(1, 16, 3, padding: 1, bias: false), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
                new Conv2d(16, 32, 3, padding: 1, bias: false), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
                new Flatten(), new Dense(32 * 7 * 7, 64, bias: false), new BatchNorm1d(64), new ReLU(), new Dense(64, 10)), [1, 28, 28]),
            "residual" => (new Sequential(new Conv2d(3, 8, 3, padding: 1, bias: false), new BatchNorm2d(8), new ReLU(),
                new Residual(new Sequential(new Conv2d(8, 16, 3, stride: 2, padding: 1, bias: false), new BatchNorm2d(16), new ReLU(),
                        new Conv2d(16, 16, 3, padding: 1, bias: false), new BatchNorm2d(16)),
                    new Sequential(new Conv2d(8, 16, 1, stride: 2, bias: false), new BatchNorm2d(16))),
                new ReLU(), new Residual(new Sequential(new Conv2d(16, 16, 3, padding: 1, bias: false), new BatchNorm2d(16))), new ReLU(),
                new AdaptiveAvgPool2d(), new Flatten(), new Dense(16, 5)), [3, 12, 12]),
            "layernorm_activations" => (new Sequential(new Dense(12, 16), new LayerNorm(16), new GELU(), new Dense(16, 16), new GELU("tanh"),
                new Dense(16, 16), new LeakyReLU(0.2f), new Dense(16, 16), new ELU(0.7f), new Dense(16, 16), new SiLU(), new Dense(16, 16),
                new Softplus(beta: 2f), new Dense(16, 16), new Softplus(), new Tanh(), new Dropout(0.3f), new Identity(), new Dense(16, 6),
                new LogSoftmax(1)), [12]),
            "pooling_and_general_conv" => (new Sequential(
                new Conv2d(4, 8, 3, padding: "same", dilation: 2, groups: 2, bias: false), new BatchNorm2d(8), new ReLU(),
                new Conv2d(8, 8, 3, padding: 1, groups: 8), new MaxPool2d((3, 2), (2, 2), (1, 1), ceilMode: true),
                new Conv2d(8, 6, (2, 3), stride: (1, 2), padding: (1, 0)), new AvgPool2d(3, 2, 1, ceilMode: false, countIncludePad: false),
                new AvgPool2d(2, 1, 1), new Conv2d(6, 6, 4, padding: "same"), new AdaptiveAvgPool2d(1, 2), new Flatten(1, 2), new Softmax(-1)),
                [4, 13, 11]),
            "renorm_and_rank3_dense" => (new Sequential(new Dense(5, 7, bias: false), new BatchRenorm1d(7, warmupSteps: 0), new ReLU(),
                new Flatten(0, 0), new Dense(7, 3)), [5]),
            "avg_ceil" => (new Sequential(new AvgPool2d(3, 2, 1, ceilMode: true), new AvgPool2d(2, 2, 0, ceilMode: true, countIncludePad: false)), [2, 8, 8]),
            _ => throw new ArgumentException(name),
        };
        model.Train();
        for (int step = 0; step < 3; step++)
            using (MiniNet.Autograd.NoGrad()) model.Call(Tensor.Randn([8, .. shape], seed: 100 + step) * 1.5f + 0.3f);
        model.Eval();
        return (model, shape);
    }

    private static readonly string[] Models =
        ["bn_dnn_relu", "bn_dnn_sigmoid", "bn_cnn", "residual", "layernorm_activations", "pooling_and_general_conv", "renorm_and_rank3_dense", "avg_ceil"];

    private static IEnumerable<TestCaseData> Cases() =>
        from name in Models from fold in new[] { false, true } select new TestCaseData(name, fold);

    /// <summary>ONNX Runtime's output for <paramref name="x"/> (2 threads, every graph optimisation).</summary>
    internal static float[] RunOnnx(byte[] model, Tensor x, out int[] shape)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(model, options);
        var input = new DenseTensor<float>(x.ToArray(), [.. x.Shape]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), input)]);
        var output = results.Single().AsTensor<float>();
        shape = output.Dimensions.ToArray();
        return output.ToArray();
    }

    private static void KeepForChecker(string name, byte[] bytes)
    {
        string? dir = Environment.GetEnvironmentVariable("MININET_ONNX_CHECK_DIR");
        if (string.IsNullOrEmpty(dir)) return;
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, name + ".onnx"), bytes);
    }

    [TestCaseSource(nameof(Cases))]
    public void OnnxRuntime_AgreesWithMiniNet(string name, bool foldBatchNorm)
    {
        (Module model, int[] shape) = Built(name);
        string path = PathOf(name + ".onnx");
        model.ExportOnnx(path, shape, new OnnxExportOptions(FoldBatchNorm: foldBatchNorm));
        byte[] bytes = File.ReadAllBytes(path);
        KeepForChecker(name + (foldBatchNorm ? "_folded" : ""), bytes);
        foreach (int batch in new[] { 1, 37 })
        {
            Tensor x = Tensor.Randn([batch, .. shape], seed: batch);
            Tensor expected;
            using (MiniNet.Autograd.NoGrad()) expected = model.Call(x);
            float[] actual = RunOnnx(bytes, x, out int[] outShape);
            Assert.That(outShape, Is.EqualTo(expected.Shape), $"batch {batch}: output shape");
            TensorAssert.Close(actual, expected.ToArray(), atol: 1e-5f, rtol: 1e-4f, what: $"batch {batch}");
        }
    }

    [Test]
    public void Graph_NamesInitializersByStateDictKeys_AndCarriesMetadata()
    {
        (Module model, int[] shape) = Built("bn_cnn");
        var proto = global::Onnx.ModelProto.Parser.ParseFrom(model.ToOnnx(shape));
        Assert.That(proto.OpsetImport.Single().Version, Is.EqualTo(17));
        Assert.That((proto.ProducerName, proto.IrVersion), Is.EqualTo(("MiniNet", 8L)));
        Assert.That(proto.MetadataProps.Single(p => p.Key == "input_shape").Value, Is.EqualTo("(batch, 1, 28, 28)"));
        var input = proto.Graph.Input.Single();
        Assert.That(input.Name, Is.EqualTo("input"));
        Assert.That(input.Type.TensorType.Shape.Dim.Select(d => d.DimParam.Length > 0 ? d.DimParam : d.DimValue.ToString()), Is.EqualTo(new[] { "batch", "1", "28", "28" }));
        Assert.That(proto.Graph.Output.Single().Type.TensorType.Shape.Dim.Select(d => d.DimValue), Is.EqualTo(new long[] { 0, 10 }));
        string[] floatKeys = [.. model.StateDict().Where(e => e.Value.DType == DType.Float32).Select(e => e.Key)];
        Assert.That(proto.Graph.Initializer.Select(i => i.Name), Is.EquivalentTo(floatKeys), "every float state entry, by its key, and nothing else");
        Assert.That(proto.Graph.Node.Count(n => n.OpType == "BatchNormalization"), Is.EqualTo(3));

        var folded = global::Onnx.ModelProto.Parser.ParseFrom(model.ToOnnx(shape, new OnnxExportOptions(FoldBatchNorm: true)));
        Assert.That(folded.Graph.Node.Count(n => n.OpType == "BatchNormalization"), Is.EqualTo(0));
        Assert.That(folded.Graph.Initializer.Select(i => i.Name), Is.EquivalentTo(new[] { "0.weight", "0.bias", "4.weight", "4.bias", "9.weight", "9.bias", "12.weight", "12.bias" }));
    }

    /// <summary>y = relu(fc(x)) + x, exported through its own description.</summary>
    private sealed class SkipBlock : Module, IOnnxExportable
    {
        private readonly Dense _fc;

        public SkipBlock(int features) => _fc = RegisterModule("fc", new Dense(features, features));

        public override Tensor Forward(Tensor x) => _fc.Call(x).Relu() + x;

        public string ExportOnnx(OnnxGraphBuilder graph, string input) =>
            graph.Node("Add", [graph.Node("Relu", [graph.Child(_fc, input)]), input]);
    }

    private sealed class Opaque : Module
    {
        public override Tensor Forward(Tensor x) => x * 2f;
    }

    [Test]
    public void CustomLayers_DescribeTheirNodes_OthersAreRefusedByName()
    {
        Rng.ManualSeed(1);
        var model = new Sequential(new Dense(6, 6), new SkipBlock(6), new Dense(6, 2));
        model.Eval();
        byte[] bytes = model.ToOnnx([6]);
        var proto = global::Onnx.ModelProto.Parser.ParseFrom(bytes);
        Assert.That(proto.Graph.Initializer.Select(i => i.Name), Does.Contain("1.fc.weight"));
        Tensor x = Tensor.Randn([5, 6], seed: 2);
        using (MiniNet.Autograd.NoGrad()) TensorAssert.Close(RunOnnx(bytes, x, out _), model.Call(x).ToArray(), atol: 1e-5f, rtol: 1e-4f);

        var opaque = new Sequential(new Dense(3, 3), new Sequential(new ReLU(), new Opaque()));
        opaque.Eval();
        Assert.That(() => opaque.ToOnnx([3]), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("'1.1' (Opaque)").And.Message.Contains("IOnnxExportable"));
        Assert.That(() => new Sequential(new Dense(3, 3)).ToOnnx([3]), Throws.InvalidOperationException.With.Message.Contains("training mode"));
        Assert.That(() => model.ToOnnx([5]), Throws.ArgumentException.With.Message.Contains("(1, 5)"));
    }

    [Test]
    public void AFailedExport_LeavesTheExistingFile()
    {
        string path = PathOf("model.onnx");
        File.WriteAllText(path, "previous");
        var opaque = new Sequential(new Opaque());
        opaque.Eval();
        Assert.Throws<NotSupportedException>(() => opaque.ExportOnnx(path, [3]));
        Assert.That(File.ReadAllText(path), Is.EqualTo("previous"));
        Assert.That(Directory.GetFiles(Dir), Has.Length.EqualTo(1), "no temporary left behind");
        Assert.That(() => opaque.ExportOnnx(PathOf("missing/model.onnx"), [3]), Throws.InstanceOf<NotSupportedException>());
    }
}
