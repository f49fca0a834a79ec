using MiniNet.Data;
using MiniNet.Layers;

namespace MiniNet.Samples;

/// <summary>Mean loss and accuracy of a classifier over a data set.</summary>
public readonly record struct Score(double Loss, double Accuracy);

/// <summary>Evaluation loops shared by the samples.</summary>
public static class Evaluation
{
    /// <summary>Mean cross-entropy and accuracy of <paramref name="model"/> on <paramref name="data"/>, in evaluation
    /// mode and without recording a graph; the model's training mode is restored afterwards.</summary>
    public static Score Evaluate(Module model, TensorDataset data, int batchSize = 1000)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        bool wasTraining = model.Training;
        model.Eval();
        double loss = 0;
        long correct = 0;
        try
        {
            using (Autograd.NoGrad())
            {
                foreach (var (x, y) in new DataLoader(data, batchSize))
                {
                    using var step = TensorScope.Begin();
                    Tensor logits = model.Forward(x);
                    loss += logits.CrossEntropy(y).Item() * (double)y.Length;
                    correct += Correct(logits, y);
                }
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        return new Score(loss / data.Count, correct / (double)data.Count);
    }

    /// <summary>How many rows of <paramref name="logits"/> have their maximum at the label.</summary>
    public static int Correct(Tensor logits, int[] labels)
    {
        int[] predicted = logits.ArgMax(1);
        int correct = 0;
        for (int i = 0; i < labels.Length; i++) if (predicted[i] == labels[i]) correct++;
        return correct;
    }
}
