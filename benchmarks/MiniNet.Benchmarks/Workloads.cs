using MiniNet;
using MiniNet.Layers;

namespace MiniNet.Benchmarks;

/// <summary>The workloads of the performance issue, built exactly as the PyTorch baseline builds them.</summary>
public sealed record Workload(string Name, int Batch, int[] InputShape, Func<Sequential> Build)
{
    public static readonly Workload[] All =
    [
        new("fig1", 60, [784], () => new Sequential(
            new Dense(784, 100, bias: false), new BatchNorm1d(100), new Sigmoid(),
            new Dense(100, 100, bias: false), new BatchNorm1d(100), new Sigmoid(),
            new Dense(100, 100, bias: false), new BatchNorm1d(100), new Sigmoid(),
            new Dense(100, 10))),
        new("mlp", 128, [784], () => new Sequential(
            new Dense(784, 1024, bias: false), new BatchNorm1d(1024), new ReLU(),
            new Dense(1024, 1024, bias: false), new BatchNorm1d(1024), new ReLU(),
            new Dense(1024, 10))),
        new("cnn", 64, [1, 28, 28], () => new Sequential(
            new Conv2d(1, 32, 3, padding: 1, bias: false), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            new Conv2d(32, 64, 3, padding: 1, bias: false), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Dense(3136, 128, bias: false), new BatchNorm1d(128), new ReLU(), new Dense(128, 10))),
        // CIFAR-shaped: a ResNet-20-style net (3 stages of 16/32/64 channels, 3 blocks each, stride-2 downsampling
        // with a projected shortcut) and a wide plain stack of 3×3 convolutions at 32×32 and 16×16.
        new("resnet", 128, [3, 32, 32], () => new Sequential(
            new Conv2d(3, 16, 3, padding: 1, bias: false), new BatchNorm2d(16), new ReLU(),
            new BasicBlock(16, 16, 1), new BasicBlock(16, 16, 1), new BasicBlock(16, 16, 1),
            new BasicBlock(16, 32, 2), new BasicBlock(32, 32, 1), new BasicBlock(32, 32, 1),
            new BasicBlock(32, 64, 2), new BasicBlock(64, 64, 1), new BasicBlock(64, 64, 1),
            new AvgPool2d(8), new Flatten(), new Dense(64, 10))),
        new("wide", 128, [3, 32, 32], () => new Sequential(
            new Conv2d(3, 64, 3, padding: 1, bias: false), new BatchNorm2d(64), new ReLU(),
            new Conv2d(64, 128, 3, padding: 1, bias: false), new BatchNorm2d(128), new ReLU(), new MaxPool2d(2),
            new Conv2d(128, 256, 3, padding: 1, bias: false), new BatchNorm2d(256), new ReLU(),
            new Conv2d(256, 256, 3, padding: 1, bias: false), new BatchNorm2d(256), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Dense(256 * 8 * 8, 10))),
    ];
}

/// <summary>ResNet's basic block, written as a user writes a custom module: conv-BN-ReLU-conv-BN plus the input,
/// then ReLU; where the block changes the shape, the shortcut is a strided 1×1 convolution and a BatchNorm.</summary>
public sealed class BasicBlock : Module, MiniNet.Layers.Onnx.IOnnxExportable
{
    private readonly Conv2d _conv1, _conv2;
    private readonly BatchNorm2d _bn1, _bn2;
    private readonly ReLU _relu;
    private readonly Conv2d? _project;
    private readonly BatchNorm2d? _projectNorm;

    public BasicBlock(int inChannels, int outChannels, int stride)
    {
        _conv1 = RegisterModule("conv1", new Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(outChannels));
        _relu = RegisterModule("relu", new ReLU());
        _conv2 = RegisterModule("conv2", new Conv2d(outChannels, outChannels, 3, padding: 1, bias: false));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(outChannels));
        if (stride != 1 || inChannels != outChannels)
        {
            _project = RegisterModule("shortcut_conv", new Conv2d(inChannels, outChannels, 1, stride: stride, bias: false));
            _projectNorm = RegisterModule("shortcut_bn", new BatchNorm2d(outChannels));
        }
    }

    public override Tensor Forward(Tensor x)
    {
        Tensor h = Fusion.Forward(x, _conv1, _bn1, _relu);
        h = Fusion.Forward(h, _conv2, _bn2);
        Tensor shortcut = _project is null ? x : Fusion.Forward(x, _project, _projectNorm!);
        return (h + shortcut).Relu();
    }

    /// <summary>Its ONNX nodes, as a custom layer describes them: the children exported in turn, then Add and Relu.</summary>
    public string ExportOnnx(MiniNet.Layers.Onnx.OnnxGraphBuilder graph, string input)
    {
        string h = graph.Child(_relu, graph.Child(_bn1, graph.Child(_conv1, input)));
        h = graph.Child(_bn2, graph.Child(_conv2, h));
        string shortcut = _project is null ? input : graph.Child(_projectNorm!, graph.Child(_project, input));
        return graph.Node("Relu", [graph.Node("Add", [h, shortcut])]);
    }
}
