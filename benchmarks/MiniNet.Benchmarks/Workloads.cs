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
    ];
}
