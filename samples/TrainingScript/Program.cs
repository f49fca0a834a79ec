// The shortest complete MiniNet training script: data, model, optimizer, loop, evaluation, save.
using MiniNet;
using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Optim;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 3;                      // optional: number of epochs
TensorDataset train = FashionMnist.Load(Split.Train), test = FashionMnist.Load(Split.Test);
if (args.Length > 1) train = train.Take(int.Parse(args[1]));               // optional: a smaller training set

Rng.ManualSeed(0);
var model = new Sequential(
    new Flatten(),
    new Dense(784, 256, bias: false), new BatchNorm1d(256), new ReLU(),
    new Dense(256, 10, bias: false));
var optimizer = new SGD(model.Parameters(), lr: 0.05f, momentum: 0.9f);

for (int epoch = 1; epoch <= epochs; epoch++)
{
    model.Train();
    foreach (var (x, y) in new DataLoader(train, batchSize: 64, shuffle: true, seed: epoch))
    {
        using var step = TensorScope.Begin();                              // recycle this step's activations
        optimizer.ZeroGrad();
        Tensor loss = model.Forward(x).CrossEntropy(y);
        loss.Backward();
        optimizer.Step();
    }
    model.Eval();
    int correct = 0;
    using (Autograd.NoGrad())
        foreach (var (x, y) in new DataLoader(test, batchSize: 1000))
            correct += model.Forward(x).ArgMax(1).Zip(y).Count(p => p.First == p.Second);
    Console.WriteLine($"epoch {epoch}: test accuracy {correct / (double)test.Count:P2}");
}
Directory.CreateDirectory("runs");                                          // runs/ is git-ignored, like the main sample's output
model.Save(Path.Combine("runs", "training-script.safetensors"));
