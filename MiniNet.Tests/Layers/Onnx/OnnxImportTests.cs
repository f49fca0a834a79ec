using System.Text.Json;
using MiniNet.Layers;
using MiniNet.Layers.Onnx;
using MiniNet.Optim;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Layers.Onnx;

/// <summary>Models exported by PyTorch 1.13's torch.onnx.export (Fixtures/onnx, written by make_onnx_fixtures.py: opsets
/// 13 and 17, BatchNorm kept or folded) read into MiniNet modules: PyTorch's outputs within 1e-5 absolute plus 1e-4
/// relative, trainable, exportable again; hostile files refused.</summary>
[TestFixture]
public class OnnxImportTests : TempDirectoryTest
{
    private static string FixturePath(string file) => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "onnx", file);

    private static IEnumerable<string> Files => Fixture.Load("onnx_import.json").EnumerateObject().Select(p => p.Name).ToArray();

    [TestCaseSource(nameof(Files))]
    public void PyTorchExports_GivePyTorchsOutputs(string file)
    {
        JsonElement f = Fixture.Load("onnx_import.json").GetProperty(file);
        OnnxModel model = OnnxModel.Load(FixturePath(file));
        Assert.That(model.Training, Is.False, "read in evaluation mode");
        Tensor x = Tensor.FromArray(f.GetProperty("x").Floats(), f.GetProperty("shape").Ints());
        Tensor y;
        using (MiniNet.Autograd.NoGrad()) y = model.Call(x);
        TensorAssert.Close(y, f.GetProperty("y").Floats(), f.GetProperty("y_shape").Ints(), atol: 1e-5f, rtol: 1e-4f);
        // The batch stays free: one sample alone gives its row of the batch's output.
        Tensor one;
        using (MiniNet.Autograd.NoGrad()) one = model.Call(x.Narrow(0, 1, 1));
        TensorAssert.Close(one.Data, y.Narrow(0, 1, 1).ToArray(), atol: 1e-5f, rtol: 1e-4f, what: "batch 1");
    }

    [Test]
    public void Layers_TakeTheirInitializersPaths_AndBatchNormKeepsItsStatistics()
    {
        OnnxModel cnn = OnnxModel.Load(FixturePath("cnn_opset17_preserve.onnx"));
        var state = cnn.StateDict();
        Assert.That(state.Keys, Does.Contain("features.0.weight").And.Contain("features.1.running_var").And.Contain("head.1.bias"));
        Module norm = cnn.NamedModules().Single(m => m.Name == "features.1").Module;
        Assert.That(norm, Is.InstanceOf<BatchNorm2d>());
        Assert.That(((BatchNorm2d)norm).RunningVar!.ToArray(), Has.Some.Not.EqualTo(1f), "the file's running variance, not the default");
        OnnxModel dnn = OnnxModel.Load(FixturePath("dnn_relu_opset13_default.onnx"));
        Assert.That(dnn.Opset, Is.EqualTo(13));
        Assert.That(dnn.Modules().OfType<BatchNorm1d>().Count(), Is.EqualTo(1));
        Assert.That(dnn.Modules().OfType<Dense>().Select(d => d.Bias is null), Is.EqualTo(new[] { true, true }), "bias-free, as exported");
    }

    [TestCase("residual_opset17_preserve.onnx", new[] { 4, 3, 10, 10 })]
    [TestCase("cnn_opset13_default.onnx", new[] { 4, 1, 28, 28 })]
    [TestCase("mlp_rank3_opset17_preserve.onnx", new[] { 4, 4, 6 })]
    public void RoundTrip_ImportFineTuneExport_RunsInOnnxRuntime(string file, int[] shape)
    {
        OnnxModel model = OnnxModel.Load(FixturePath(file));
        Tensor x = Tensor.Randn(shape, seed: 3);
        Tensor before;
        using (MiniNet.Autograd.NoGrad()) before = model.Call(x).Clone();
        model.Train();
        var optimizer = new SGD(model.Parameters(), lr: 0.1f, momentum: 0.9f);
        Tensor output = model.Call(x);
        Tensor loss = (output * output).Mean();
        loss.Backward();
        Assert.That(model.Parameters().All(p => p.Grad is not null), "every imported parameter is trained");
        optimizer.Step();
        model.Eval();
        Tensor after;
        using (MiniNet.Autograd.NoGrad()) after = model.Call(x);
        Assert.That(after.ToArray(), Is.Not.EqualTo(before.ToArray()), "the step changed the model");

        int[] sample = shape[1..];
        string path = PathOf("tuned.onnx");
        model.ExportOnnx(path, sample);
        float[] served = OnnxExportTests.RunOnnx(File.ReadAllBytes(path), x, out int[] servedShape);
        Assert.That(servedShape, Is.EqualTo(after.Shape));
        TensorAssert.Close(served, after.ToArray(), atol: 1e-5f, rtol: 1e-4f, what: "ONNX Runtime on the re-exported model");
        TensorAssert.Close(OnnxModel.Load(path).Call(x).Data, after.ToArray(), atol: 1e-5f, rtol: 1e-4f, what: "MiniNet on it again");
    }

    [Test]
    public void MiniNetsOwnExports_ReadBack()
    {
        Rng.ManualSeed(5);
        var model = new Sequential(new Conv2d(2, 4, 3, padding: "same", groups: 2, bias: false), new BatchNorm2d(4), new ReLU(),
            new MaxPool2d(2, ceilMode: true), new Residual(new Sequential(new Conv2d(4, 4, 3, padding: 1), new ELU())), new AvgPool2d(2),
            new Flatten(), new Dense(4 * 2 * 2, 3), new LogSoftmax(1));
        model.Train();
        using (MiniNet.Autograd.NoGrad()) model.Call(Tensor.Randn([8, 2, 9, 9], seed: 1));
        model.Eval();
        string path = PathOf("own.onnx");
        model.ExportOnnx(path, [2, 9, 9]);
        OnnxModel read = OnnxModel.Load(path);
        Tensor x = Tensor.Randn([5, 2, 9, 9], seed: 2);
        using (MiniNet.Autograd.NoGrad()) TensorAssert.Close(read.Call(x), model.Call(x).ToArray(), atol: 1e-5f, rtol: 1e-4f);
        Assert.That(read.StateDict().Keys, Does.Contain("0.weight").And.Contain("1.running_mean").And.Contain("4.body.0.bias"));
    }

    /// <summary>A one-node model: op applied to a (N, 3) input.</summary>
    private static byte[] OneNode(string op, int opset = 17)
    {
        var graph = new global::Onnx.GraphProto { Name = "g" };
        graph.Node.Add(new global::Onnx.NodeProto { OpType = op, Name = "the_node", Input = { "x" }, Output = { "y" } });
        var type = new global::Onnx.TypeProto { TensorType = new() { ElemType = 1, Shape = new() } };
        type.TensorType.Shape.Dim.Add(new global::Onnx.TensorShapeProto.Types.Dimension { DimParam = "N" });
        type.TensorType.Shape.Dim.Add(new global::Onnx.TensorShapeProto.Types.Dimension { DimValue = 3 });
        graph.Input.Add(new global::Onnx.ValueInfoProto { Name = "x", Type = type });
        graph.Output.Add(new global::Onnx.ValueInfoProto { Name = "y", Type = type });
        var model = new global::Onnx.ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new global::Onnx.OperatorSetIdProto { Domain = "", Version = opset });
        return Google.Protobuf.MessageExtensions.ToByteArray(model);
    }

    [Test]
    public void WhatIsNotRead_IsNamed()
    {
        Assert.That(OnnxModel.Load(OneNode("Relu")).Call(Tensor.FromArray([-1f, 0f, 2f], 1, 3)).ToArray(), Is.EqualTo(new float[] { 0, 0, 2 }));
        Assert.That(() => OnnxModel.Load(OneNode("Cos"), "m.onnx"),
            Throws.InstanceOf<NotSupportedException>().With.Message.Contains("'the_node' (Cos)").And.Message.Contains("opset 17").And.Message.Contains("m.onnx"));
        Assert.That(() => OnnxModel.Load(OneNode("Relu", opset: 11), "m.onnx"), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("opset 11"));
        byte[] bytes = File.ReadAllBytes(FixturePath("mlp_opset17_default.onnx"));
        string truncated = PathOf("truncated.onnx");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        Assert.That(() => OnnxModel.Load(truncated), Throws.InstanceOf<InvalidDataException>().With.Message.Contains(truncated));
        Assert.That(() => OnnxModel.Load(PathOf("missing.onnx")), Throws.InstanceOf<FileNotFoundException>());
        Assert.That(() => OnnxModel.Load(Dir), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("folder"));
    }

    [TestCase("mlp_opset17_preserve.onnx", 1)]
    [TestCase("residual_opset13_preserve.onnx", 2)]
    [TestCase("cnn_opset17_default.onnx", 3)]
    public void HostileFiles_AreRefusedByName_WithoutCrashOrOverAllocation(string file, int seed)
    {
        byte[] valid = File.ReadAllBytes(FixturePath(file));
        var rng = new Random(seed);
        int refused = 0, read = 0;
        const int cases = 300;
        for (int i = 0; i < cases; i++)
        {
            byte[] input = (byte[])valid.Clone();
            switch (rng.Next(4))
            {
                case 0: for (int k = rng.Next(1, 8); k > 0; k--) input[rng.Next(input.Length)] = (byte)rng.Next(256); break;
                case 1: input = input[..rng.Next(input.Length)]; break;
                case 2: for (int k = rng.Next(1, 4); k > 0; k--) input[rng.Next(input.Length)] ^= (byte)(1 << rng.Next(8)); break;
                default:   // a varint inflated to claim a huge length or dimension
                    int at = rng.Next(input.Length - 5);
                    input[at] = 0xFF; input[at + 1] = 0xFF; input[at + 2] = 0xFF; input[at + 3] = 0x7F;
                    break;
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                OnnxModel.Load(input, "fuzzed.onnx");
                read++;
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException)
            {
                Assert.That(e.Message, Does.Contain("fuzzed.onnx"), $"case {i}: the message names the file");
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"case {i}: {e.GetType().Name}: {e.Message}");
            }
            long used = GC.GetAllocatedBytesForCurrentThread() - allocated;
            Assert.That(used, Is.LessThan(32L * valid.Length + (4 << 20)), $"case {i}: allocated {used:N0} bytes for a {input.Length:N0}-byte file");
        }
        TestContext.Out.WriteLine($"{file}: {cases} cases, {refused} refused, {read} read");
        Assert.That(refused, Is.GreaterThan(cases / 4));
    }
}
