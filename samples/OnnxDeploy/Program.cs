// Serves a model that MiniNet exported (samples/MnistBatchNorm --export-onnx) with ONNX Runtime alone: loads the .onnx
// file, classifies the Fashion-MNIST (or MNIST) test set in batches and prints the accuracy and the throughput.
//   dotnet run -c Release --project samples/OnnxDeploy -- runs/<run>/model.onnx [fashion|mnist]
using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MiniNet.Data;

if (args.Length is < 1 or > 2 || !File.Exists(args[0]))
{
    Console.Error.WriteLine("usage: OnnxDeploy MODEL.onnx [fashion|mnist]   (write one with samples/MnistBatchNorm --export-onnx)");
    return 2;
}
TensorDataset test = args.Length > 1 && args[1] == "mnist" ? Mnist.Load(Split.Test) : FashionMnist.Load(Split.Test);

using var options = new SessionOptions { IntraOpNumThreads = 2, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
using var session = new InferenceSession(args[0], options);
string input = session.InputMetadata.Keys.Single();
int[] sampleShape = [.. test.SampleShape];
Console.WriteLine($"{args[0]}: input '{input}' {string.Join("×", session.InputMetadata[input].Dimensions.Select(d => d < 0 ? "batch" : d.ToString()))}, " +
    $"producer {session.ModelMetadata.ProducerName}");

int correct = 0;
var clock = Stopwatch.StartNew();
foreach ((MiniNet.Tensor x, int[] labels) in new DataLoader(test, batchSize: 1000))
{
    var batch = new DenseTensor<float>(x.ToArray(), [labels.Length, .. sampleShape]);
    using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, batch)]);
    Tensor<float> logits = results.Single().AsTensor<float>();
    int classes = (int)logits.Dimensions[1];
    for (int i = 0; i < labels.Length; i++)
    {
        int best = 0;
        for (int k = 1; k < classes; k++) if (logits[i, k] > logits[i, best]) best = k;
        if (best == labels[i]) correct++;
    }
}
double seconds = clock.Elapsed.TotalSeconds;
Console.WriteLine($"test accuracy {correct / (double)test.Count:P2} on {test.Count} images, {test.Count / seconds:N0} images/s with ONNX Runtime");
return 0;
