using MiniNet.Kernels;

namespace MiniNet;

public static partial class Ops
{
    /// <summary>Batch normalization, fused forward and backward (as <c>torch.nn.functional.batch_norm</c>):
    /// y = γ·(x − μ)/√(σ² + ε) + β per channel.</summary>
    /// <remarks>
    /// <para>x is (N, C), (N, C, L) or (N, C, H, W); statistics are per channel over the other dimensions (m = N·L values).
    /// In training, μ and the biased σ² come from the batch and gradients flow through both:
    /// dx = (γ/σ)·(dy − mean(dy) − x̂·mean(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy. The running buffers, when given, are
    /// updated in place: running = (1 − factor)·running + factor·batch, with the unbiased m/(m − 1) variance.</para>
    /// <para>Outside training, μ and σ² are the running buffers, treated as constants (then they are required).</para>
    /// </remarks>
    /// <param name="weight">γ, shape (C), or null for 1.</param>
    /// <param name="bias">β, shape (C), or null for 0.</param>
    /// <param name="runningMean">Running mean (C), or null.</param>
    /// <param name="runningVar">Running variance (C), or null.</param>
    /// <param name="training">Use batch statistics (and update the running ones).</param>
    /// <param name="factor">The weight of the new batch in the running average (PyTorch's momentum, 0.1 by default).</param>
    /// <param name="eps">ε added to the variance.</param>
    /// <exception cref="ArgumentException">Bad rank, mismatched channel counts, or one value per channel in training.</exception>
    public static Tensor BatchNorm(this Tensor x, Tensor? weight, Tensor? bias, Tensor? runningMean, Tensor? runningVar,
        bool training, float factor = 0.1f, float eps = 1e-5f) =>
        BatchNorm(x, weight, bias, runningMean, runningVar, training, factor, eps, relu: false);

    /// <summary><c>BatchNorm(…).Relu()</c> as one op: max(y, 0) is taken as y is written, and the backward pass gates the
    /// gradient by the sign of y, recomputed from x, so neither y nor a separate ReLU pass over it is needed. Values and
    /// gradients equal the two ops' (the same arithmetic; NaN propagates as in <see cref="Relu"/>).</summary>
    /// <remarks>Arguments, statistics and running-buffer updates as in <see cref="BatchNorm(Tensor, Tensor?, Tensor?, Tensor?, Tensor?, bool, float, float)"/>.</remarks>
    /// <exception cref="ArgumentException">As for BatchNorm.</exception>
    public static Tensor BatchNormRelu(this Tensor x, Tensor? weight, Tensor? bias, Tensor? runningMean, Tensor? runningVar,
        bool training, float factor = 0.1f, float eps = 1e-5f) =>
        BatchNorm(x, weight, bias, runningMean, runningVar, training, factor, eps, relu: true);

    /// <summary>Per-channel statistics of x (N, C, …) over every dimension but the channels: the mean and the biased
    /// variance, in double, exactly as <see cref="BatchNorm(Tensor, Tensor?, Tensor?, Tensor?, Tensor?, bool, float, float)"/>
    /// computes them in training, and the count m = N·L of values per channel.</summary>
    /// <exception cref="ArgumentException">x has rank below 2.</exception>
    public static (double[] Mean, double[] BiasedVariance, int Count) ChannelStatistics(this Tensor x)
    {
        var (n, c, l) = ChannelLayout(x);
        var mean = new double[c];
        var variance = new double[c];
        BatchNormKernels.Statistics(x.Storage, n, c, l, mean, variance);
        return (mean, variance, n * l);
    }

    /// <summary>running = (1 − factor)·running + factor·batch, the variance unbiased by m/(m − 1), in double.</summary>
    private static void UpdateRunning(Span<float> rm, Span<float> rv, double[] mu, double[] variance, float factor, int m)
    {
        double unbias = m / (m - 1.0);
        for (int j = 0; j < rm.Length; j++)
        {
            rm[j] = (float)((1.0 - factor) * rm[j] + factor * mu[j]);
            rv[j] = (float)((1.0 - factor) * rv[j] + factor * variance[j] * unbias);
        }
    }

    /// <summary>(N, C, L) of x (N, C, …), L the product of the trailing dimensions.</summary>
    private static (int N, int C, int L) ChannelLayout(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 2)
            throw new ArgumentException($"BatchNorm: expects input (N, C, …), got {Shapes.Format(x.Dims)}.", nameof(x));
        return (x.Dims[0], x.Dims[1], Shapes.Numel(x.Dims.AsSpan(2)));
    }

    private static Tensor BatchNorm(Tensor x, Tensor? weight, Tensor? bias, Tensor? runningMean, Tensor? runningVar,
        bool training, float factor, float eps, bool relu)
    {
        var (n, c, l) = ChannelLayout(x);
        foreach (var (t, name, parameter) in new[] { (weight, "weight", nameof(weight)), (bias, "bias", nameof(bias)),
                     (runningMean, "running_mean", nameof(runningMean)), (runningVar, "running_var", nameof(runningVar)) })
            if (t is not null && (t.Rank != 1 || t.Dims[0] != c))
                throw new ArgumentException($"BatchNorm: input {Shapes.Format(x.Dims)} has {c} channels but {name} has shape {Shapes.Format(t.Dims)}.", parameter);
        if ((runningMean is null) != (runningVar is null))
            throw new ArgumentException("BatchNorm: give both running_mean and running_var, or neither.", nameof(runningVar));
        if (!training && runningMean is null)
            throw new ArgumentException("BatchNorm: evaluation without batch statistics needs running_mean and running_var.", nameof(runningMean));
        if (!(eps > 0f)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "BatchNorm: eps must be positive.");
        int m = n * l;
        if (training && m <= 1)
            throw new ArgumentException(
                $"BatchNorm: expected more than 1 value per channel when training, got input of shape {Shapes.Format(x.Dims)}.", nameof(x));

        // x̂ = (x − center)·invStd + offset: center is μ in float, offset keeps μ's rounding error (see the kernels).
        var center = new float[c];
        var invStd = new float[c];
        var offset = new float[c];
        double[]? mu = null, variance = null;
        if (training)
        {
            mu = new double[c];
            variance = new double[c];
            BatchNormKernels.Statistics(x.Storage, n, c, l, mu, variance);
            for (int j = 0; j < c; j++)
            {
                double inv = 1.0 / Math.Sqrt(variance[j] + eps);
                center[j] = (float)mu[j];
                invStd[j] = (float)inv;
                offset[j] = (float)(-(mu[j] - center[j]) * inv);
            }
        }
        else
        {
            runningMean!.Values.CopyTo(center);
            ReadOnlySpan<float> rv = runningVar!.Values;
            for (int j = 0; j < c; j++) invStd[j] = (float)(1.0 / Math.Sqrt(rv[j] + (double)eps));
        }

        // y = γ·x̂ + β = (x − center)·scale + shift with scale = γ/σ, shift = β + γ·offset.
        var scale = new float[c];
        var shift = new float[c];
        for (int j = 0; j < c; j++)
        {
            float gamma = weight is null ? 1f : weight.Values[j];
            scale[j] = gamma * invStd[j];
            shift[j] = (bias is null ? 0f : bias.Values[j]) + gamma * offset[j];
        }
        Tensor y = Tensor.Allocate(x.Dims);
        BatchNormKernels.Normalize(x.Storage, n, c, l, center, scale, shift, y.Storage, relu);
        string opName = (training, relu) switch
        {
            (true, false) => "batch_norm", (false, false) => "batch_norm_eval", (true, true) => "batch_norm_relu", _ => "batch_norm_eval_relu",
        };
        if (training && runningMean is not null)
        {
            // A step that anomaly detection stops must leave the running statistics as they were: check first.
            Autograd.CheckFinite(y, opName, "its output");
            UpdateRunning(runningMean.Values, runningVar!.Values, mu!, variance!, factor, m);
        }
        ReluGate? gate = relu ? new ReluGate(scale, shift) : null;   // dy passes where the normalised value was positive

        Tensor[] inputs = (weight, bias) switch
        {
            (null, null) => [x],
            (not null, null) => [x, weight],
            (null, not null) => [x, bias],
            _ => [x, weight, bias],
        };
        return Autograd.Record(y, opName, inputs, dy =>
        {
            var sumDy = new double[c];
            var sumDyXhat = new double[c];
            BatchNormKernels.BackwardSums(x.Storage, dy.Storage, n, c, l, center, invStd, offset, sumDy, sumDyXhat, gate);
            if (weight is { RequiresGrad: true })
            {
                Span<float> dw = Autograd.GradTarget(weight).ForAdding();
                for (int j = 0; j < c; j++) dw[j] += (float)sumDyXhat[j];
            }
            if (bias is { RequiresGrad: true })
            {
                Span<float> db = Autograd.GradTarget(bias).ForAdding();
                for (int j = 0; j < c; j++) db[j] += (float)sumDy[j];
            }
            if (!x.RequiresGrad) return;
            // Training: dx = scale·(dy − mean(dy) − x̂·mean(dy·x̂)); eval: the statistics are constants, dx = scale·dy.
            var a = new float[c];
            var b = new float[c];
            if (training)
                for (int j = 0; j < c; j++) { a[j] = (float)(sumDy[j] / m); b[j] = (float)(sumDyXhat[j] / m); }
            GradientTarget dx = Autograd.GradTarget(x);
            BatchNormKernels.BackwardInput(x.Storage, dy.Storage, n, c, l, center, invStd, offset, scale, a, b, dx.Tensor.Storage, dx.Accumulate, gate);
        });
    }
}
