using System.Numerics.Tensors;

namespace MiniNet;

public static partial class Ops
{
    /// <summary>Mean cross-entropy of logits (N, K) against integer class labels, fused and numerically stable:
    /// L = (1/N)·Σₙ [ln Σₖ e^(xₙₖ) − xₙ,yₙ].</summary>
    /// <remarks>Backward: dx = (softmax(x) − onehot(y))·dL/N, from probabilities saved by the forward pass.
    /// Equal to <c>-x.LogSoftmax(1)</c> picked at the labels and averaged, which the tests check.</remarks>
    /// <exception cref="ArgumentException">Logits not 2-D, a label count other than N, or a label outside [0, K).</exception>
    public static Tensor CrossEntropy(this Tensor logits, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        if (logits.Rank != 2)
            throw new ArgumentException($"CrossEntropy: expects logits of shape (N, K), got {Shapes.Format(logits.Dims)}.", nameof(logits));
        int n = logits.Dims[0], k = logits.Dims[1];
        if (labels.Length != n)
            throw new ArgumentException($"CrossEntropy: logits {Shapes.Format(logits.Dims)} need {n} labels, got {labels.Length}.", nameof(labels));
        if (n == 0)
            throw new ArgumentException("CrossEntropy: the batch is empty (N = 0); the mean is undefined.", nameof(logits));
        for (int i = 0; i < n; i++)
            if ((uint)labels[i] >= (uint)k)
                throw new ArgumentException($"CrossEntropy: label {labels[i]} at index {i} is outside [0, {k}) for logits {Shapes.Format(logits.Dims)}.", nameof(labels));

        var probabilities = new float[n * k];
        double total = 0;
        ReadOnlySpan<float> x = logits.Values;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> row = x.Slice(i * k, k);
            Span<float> p = probabilities.AsSpan(i * k, k);
            float max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, p);
            float logSum = LogSumExp(p);
            total += logSum - p[labels[i]];                // −log softmax at the label
            TensorPrimitives.Subtract(p, logSum, p);
            TensorPrimitives.Exp(p, p);                    // softmax, kept for backward
        }
        Tensor loss = Tensor.Allocate();   // an op output like any other: released with its TensorScope
        loss.Values[0] = (float)(total / n);
        return Autograd.Record(loss, "cross_entropy", [logits], dy =>
        {
            if (!logits.RequiresGrad) return;
            float scale = dy.Values[0] / n;
            Span<float> dx = Autograd.GradTarget(logits).ForAdding();
            TensorPrimitives.MultiplyAdd(probabilities, scale, dx, dx);
            for (int i = 0; i < n; i++) dx[i * k + labels[i]] -= scale;      // the one-hot term
        });
    }
}
