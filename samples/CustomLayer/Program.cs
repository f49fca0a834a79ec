// Extending MiniNet without touching its source: a custom op (Swish), a layer using it, and a residual
// block composed of existing modules. Each is gradient-checked with MiniNet's GradCheck, then trained.
using CustomLayer;
using MiniNet;
using MiniNet.Layers;
using MiniNet.Optim;

bool allPassed = true;
void Check(string what, Func<Tensor[], Tensor> f, params Tensor[] inputs)
{
    GradCheckResult result = GradCheck.Check(f, inputs);
    Console.WriteLine($"{what,-28} {(result.Passed ? "ok" : "FAILED")}  (max |analytic − numeric| = {result.MaxAbsError:E2})");
    allPassed &= result.Passed;
}

Rng.ManualSeed(0);
Check("Swish op", v => v[0].Swish(), Tensor.Randn([4, 5], seed: 1));
Check("Swish layer", v => new Swish().Forward(v[0]), Tensor.Randn([3, 6], seed: 2));
var block = new ResidualBlock(6);
Check("ResidualBlock (input)", v => block.Forward(v[0]), Tensor.Randn([8, 6], seed: 3));

// Train a small classifier on a synthetic task: is the sum of the first three features positive?
var model = new Sequential(new Dense(6, 16, bias: false), new BatchNorm1d(16), new Swish(), new ResidualBlock(16), new Dense(16, 2));
var optimizer = new SGD(model.Parameters(), lr: 0.1f, momentum: 0.9f);
Tensor x = Tensor.Randn([256, 6], seed: 4);
int[] y = Enumerable.Range(0, 256).Select(i => x[i, 0] + x[i, 1] + x[i, 2] > 0 ? 1 : 0).ToArray();
float first = 0, last = 0;
for (int step = 0; step < 60; step++)
{
    optimizer.ZeroGrad();
    Tensor loss = model.Forward(x).CrossEntropy(y);
    loss.Backward();
    optimizer.Step();
    if (step == 0) first = loss.Item();
    last = loss.Item();
}
model.Eval();
using (Autograd.NoGrad())
{
    double accuracy = model.Forward(x).ArgMax(1).Zip(y).Count(p => p.First == p.Second) / 256.0;
    Console.WriteLine($"training: loss {first:F3} → {last:F3}, accuracy {accuracy:P1}");
}
return allPassed && last < first ? 0 : 1;
