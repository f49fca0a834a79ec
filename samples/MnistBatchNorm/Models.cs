using MiniNet.Layers;

namespace MnistBatchNorm;

/// <summary>The notes' networks, with batch normalization or, for comparison, without it (biases back on).</summary>
public static class Models
{
    /// <summary>BN-DNN: f₁ = W₁·x; f_l = W_l·σ(BN(f_{l−1})): 784 → hidden… → 10, no bias anywhere (BN's β replaces it).
    /// Without BN: Dense (with bias) → σ for each hidden layer.</summary>
    public static Sequential Dnn(int[] hidden, string activation, bool batchNorm)
    {
        var layers = new List<Module> { new Flatten() };
        int inputs = 784;
        foreach (int width in hidden)
        {
            layers.Add(new Dense(inputs, width, bias: !batchNorm));
            if (batchNorm) layers.Add(new BatchNorm1d(width));
            layers.Add(Activation(activation));
            inputs = width;
        }
        layers.Add(new Dense(inputs, 10, bias: !batchNorm));
        return new Sequential([.. layers]);
    }

    /// <summary>BN-CNN: (Conv2d without bias → BatchNorm2d → ReLU → MaxPool2d) twice, then Dense → BatchNorm1d → ReLU → Dense.
    /// Without BN the convolutions and the hidden Dense get biases.</summary>
    public static Sequential Cnn(bool batchNorm)
    {
        var layers = new List<Module>();
        void Block(Module linear, Module norm)
        {
            layers.Add(linear);
            if (batchNorm) layers.Add(norm);
            layers.Add(new ReLU());
        }
        Block(new Conv2d(1, 32, 3, padding: 1, bias: !batchNorm), new BatchNorm2d(32));
        layers.Add(new MaxPool2d(2));
        Block(new Conv2d(32, 64, 3, padding: 1, bias: !batchNorm), new BatchNorm2d(64));
        layers.Add(new MaxPool2d(2));
        layers.Add(new Flatten());
        Block(new Dense(3136, 128, bias: !batchNorm), new BatchNorm1d(128));
        layers.Add(new Dense(128, 10));
        return new Sequential([.. layers]);
    }

    private static Module Activation(string name) => name switch
    {
        "relu" => new ReLU(),
        "sigmoid" => new Sigmoid(),
        _ => throw new ArgumentException($"--activation must be relu or sigmoid, got '{name}'."),
    };
}
