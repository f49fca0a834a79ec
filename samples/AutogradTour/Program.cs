// A tour of MiniNet's tensor and autograd engine: the example from the README, then a tiny
// logistic regression trained with nothing but tensors, ops and Backward().
using MiniNet;

var x = Tensor.FromArray(new float[] { 1, -2, 3, -4, 5, -6 }, 2, 3);
x.RequiresGrad = true;
var loss = x.Sigmoid().MatMul(Tensor.Ones(3, 4)).Relu().Sum();
loss.Backward();
float[] dx = x.Grad!.ToArray();
Console.WriteLine($"loss = {loss.Item():F4}, dL/dx = [{string.Join(", ", dx.Select(v => v.ToString("F4")))}]");

using (Autograd.NoGrad()) { var y = x.Tanh() * 2f - 1f; Console.WriteLine($"no-grad result: {y}"); }

var logits = Tensor.Randn(new[] { 8, 10 }, seed: 1); logits.RequiresGrad = true;
var ce = logits.CrossEntropy(new[] { 0, 1, 2, 3, 4, 5, 6, 7 });
ce.Backward();
Console.WriteLine($"cross-entropy of random logits = {ce.Item():F4} (ln 10 = {MathF.Log(10):F4} for uniform logits)");

// Logistic regression on two Gaussian blobs: w and b are leaves, updated by hand-written gradient descent.
const int n = 200;
var features = Tensor.Randn(new[] { n, 2 }, seed: 2);
var labels = new int[n];
for (int i = 0; i < n; i++)
{
    labels[i] = i % 2;
    features[i, 0] += labels[i] == 1 ? 2f : -2f;   // shift class 1 right, class 0 left
}
var w = Tensor.Randn(new[] { 2, 2 }, seed: 3) * 0.1f; w.RequiresGrad = true;
var b = Tensor.Zeros(2); b.RequiresGrad = true;
for (int step = 0; step <= 100; step++)
{
    var l = features.MatMul(w).Add(b).CrossEntropy(labels);
    w.Grad = null; b.Grad = null;
    l.Backward();
    using (Autograd.NoGrad())
    {
        for (int i = 0; i < w.Numel; i++) w.Data[i] -= 0.5f * w.Grad!.Data[i];
        for (int i = 0; i < b.Numel; i++) b.Data[i] -= 0.5f * b.Grad!.Data[i];
    }
    if (step % 25 == 0)
    {
        int[] predicted = features.MatMul(w).Add(b).ArgMax(1);
        double accuracy = predicted.Zip(labels).Count(p => p.First == p.Second) / (double)n;
        Console.WriteLine($"step {step,3}: loss {l.Item():F4}, accuracy {accuracy:P1}");
    }
}
