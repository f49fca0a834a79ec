using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MiniNet;
using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Optim;
using MiniNet.Samples;

namespace MnistBatchNorm;

/// <summary>Thrown when the training loss stops being a finite number.</summary>
public sealed class DivergedException(string message) : Exception(message);

/// <summary>Trains one configuration, epoch by epoch, showing its progress (<see cref="EpochProgress"/>) and logging a line per epoch.</summary>
public sealed class Trainer(Settings settings, ILogger logger)
{
    /// <summary>Trains <paramref name="model"/> and returns one metrics row per epoch.</summary>
    /// <remarks>Under mpirun every rank trains on its shard of each epoch (<see cref="DataShard.OfWorld"/>) with
    /// --batch-size images a step, through <see cref="DistributedDataParallel"/>; the epoch's metrics are reduced over
    /// the ranks, so every rank reports the global figures.</remarks>
    public List<EpochMetrics> Train(Sequential model, TensorDataset train, TensorDataset test, MetricsWriter<EpochMetrics>? metrics)
    {
        var optimizer = new SGD(model.Parameters(), settings.Lr, momentum: settings.Momentum);
        DistributedDataParallel? ddp = Distributed.WorldSize > 1 ? new DistributedDataParallel(model) : null;
        // Cosine annealing over the run: the rate falls from --lr to 0 by the last epoch (or stays constant).
        LRScheduler? schedule = settings.Schedule == "cosine" ? new CosineAnnealingLR(optimizer, tMax: settings.Epochs) : null;
        var loader = new DataLoader(train, settings.BatchSize, shuffle: true, seed: settings.Seed, prefetch: true,
            shard: ddp is null ? null : DataShard.OfWorld());
        var history = new List<EpochMetrics>();
        for (int epoch = 1; epoch <= settings.Epochs; epoch++)
        {
            (double loss, double accuracy, double seconds) = RunEpoch(model, ddp, optimizer, loader, epoch);
            Score score = Evaluation.Evaluate(model, test);
            var row = new EpochMetrics(settings.RunName, epoch, loss, accuracy, score.Loss, score.Accuracy,
                loader.SampleCount * (double)Distributed.WorldSize / seconds, seconds);
            metrics?.Append(row);
            schedule?.Step();
            history.Add(row);
            logger.LogInformation(
                "{Run} epoch {Epoch}/{Epochs}: train loss {TrainLoss:F4}, accuracy {TrainAccuracy:P2}; test loss {TestLoss:F4}, accuracy {TestAccuracy:P2}; {Rate:N0} images/s",
                settings.RunName, epoch, settings.Epochs, loss, accuracy, score.Loss, score.Accuracy, row.ImagesPerSecond);
        }
        return history;
    }

    private (double Loss, double Accuracy, double Seconds) RunEpoch(Sequential model, DistributedDataParallel? ddp, Optimizer optimizer,
        DataLoader loader, int epoch)
    {
        double lossSum = 0;
        long correct = 0, seen = 0;
        var clock = Stopwatch.StartNew();
        model.Train();
        EpochProgress.Run($"{settings.RunName} epoch {epoch}", loader.BatchCount, report =>
        {
            foreach (var (x, y) in loader)
            {
                using var step = TensorScope.Begin();   // this step's activations return to the pool at its end
                optimizer.ZeroGrad(setToNone: true);   // backward then writes the gradients without clearing them first
                Tensor logits = ddp is null ? model.Forward(x) : ddp.Forward(x);
                Tensor loss = logits.CrossEntropy(y);
                float value = loss.Item();
                if (!float.IsFinite(value))
                    throw new DivergedException(
                        $"{settings.RunName}: the training loss became {value} in epoch {epoch} after {seen} images; lower --lr (now {settings.Lr}).");
                loss.Backward();
                optimizer.Step();
                lossSum += value * (double)y.Length;
                correct += Evaluation.Correct(logits, y);
                seen += y.Length;
                report($"{settings.RunName} epoch {epoch}: loss {lossSum / seen:F4}, acc {(double)correct / seen:P1}, {seen / clock.Elapsed.TotalSeconds:N0} img/s");
            }
        });
        // The epoch's figures over every rank's samples (a world of one keeps its own).
        Span<double> totals = [lossSum, correct, seen];
        Distributed.AllReduce(totals);
        return (totals[0] / totals[2], totals[1] / totals[2], clock.Elapsed.TotalSeconds);
    }
}
