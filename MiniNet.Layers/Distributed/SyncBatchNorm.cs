using System.Numerics.Tensors;

namespace MiniNet.Layers;

/// <summary>Batch normalization with the statistics of the global batch across every rank of a distributed job
/// (PyTorch's <c>SyncBatchNorm</c>, here on CPUs): (N, C) or (N, C, …) input, per-channel statistics over all ranks'
/// samples and positions.</summary>
/// <remarks>
/// <para>Training forward all-reduces each rank's count, per-channel sum and sum of squares (in double; ranks may hold
/// different counts), normalises with the global mean and biased variance, and updates the running statistics with
/// them (the unbiased variance), identically on every rank. Backward all-reduces the per-channel sums of dy and dy·x̂,
/// so the input gradient is that of one BatchNorm over the global batch. Outside training, and in a world of one, it is
/// an ordinary BatchNorm (the same state-dict keys).</para>
/// <para>The rule for ranks of different sizes: each rank's loss is the mean over its own samples, and
/// <see cref="DistributedDataParallel"/> weights rank r's gradients by n_r/N. Backward here brings the incoming
/// gradient to that common scale (times n_r/N) before the all-reduce and back after it, so the result equals one
/// process over the global batch with the mean loss.</para>
/// </remarks>
public sealed class SyncBatchNorm(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNorm(numFeatures, eps, momentum, affine, trackRunningStats)
{
    /// <summary>A copy of <paramref name="model"/> in which every BatchNorm1d and BatchNorm2d inside Sequentials and
    /// Residual blocks is a SyncBatchNorm with the same parameters and statistics (PyTorch's
    /// <c>convert_sync_batchnorm</c>); the original is left as it was.</summary>
    public static Module Convert(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Converted(model.Clone());
    }

    private static Module Converted(Module module)
    {
        switch (module)
        {
            case BatchNorm1d or BatchNorm2d:
            {
                var norm = (BatchNorm)module;
                var sync = new SyncBatchNorm(norm.NumFeatures, norm.Eps, norm.Momentum, norm.Affine, norm.TrackRunningStats);
                sync.LoadStateDict(norm.StateDict());
                sync.Train(norm.Training);
                return sync;
            }
            case Sequential s:
            {
                var result = new Sequential([.. s.Select(Converted)]);
                result.Train(s.Training);
                return result;
            }
            case Residual r:
            {
                var result = new Residual(Converted(r.Body), r.Shortcut is null ? null : Converted(r.Shortcut));
                result.Train(r.Training);
                return result;
            }
            default:
                return module;
        }
    }

    /// <inheritdoc/>
    protected override void CheckInput(Tensor x)
    {
        if (x.Rank < 2 || x.Shape[1] != NumFeatures) throw ShapeError($"(N, {NumFeatures}) or (N, {NumFeatures}, …)", x);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!Training || !Distributed.IsMpi || Distributed.WorldSize == 1) return base.Forward(x);
        CheckInput(x);
        int n = x.Shape[0], c = NumFeatures, inner = x.Numel / Math.Max(1, n * c);
        ReadOnlySpan<float> xs = x.Data;

        // [count, Σx per channel, Σx² per channel] of this rank, summed over ranks.
        var totals = new double[1 + 2 * c];
        totals[0] = (double)n * inner;
        // Each image's channel is one contiguous run: summed in float SIMD lanes, the runs added in double.
        // (N, C) input has runs of one value: plain loops over the rows there, as the vector calls would cost more.
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                if (inner == 1)
                {
                    double v = xs[b * c + ch];
                    (totals[1 + ch], totals[1 + c + ch]) = (totals[1 + ch] + v, totals[1 + c + ch] + v * v);
                    continue;
                }
                ReadOnlySpan<float> run = xs.Slice((b * c + ch) * inner, inner);
                totals[1 + ch] += TensorPrimitives.Sum(run);
                totals[1 + c + ch] += TensorPrimitives.SumOfSquares(run);
            }
        Distributed.AllReduce(totals);
        double count = totals[0];
        if (count <= 1)
            throw new ArgumentException($"SyncBatchNorm({c}): expected more than 1 value per channel across the ranks when training, got {count}.", nameof(x));
        var mean = new double[c];
        var invStd = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            mean[ch] = totals[1 + ch] / count;
            double variance = Math.Max(totals[1 + c + ch] / count - mean[ch] * mean[ch], 0);
            invStd[ch] = (float)(1.0 / Math.Sqrt(variance + Eps));
            if (TrackRunningStats)
            {
                long batches = NumBatchesTracked!.Int64Data[0] + 1;
                float m = Momentum ?? 1f / batches;
                RunningMean!.Data[ch] = (1 - m) * RunningMean.Data[ch] + m * (float)mean[ch];
                RunningVar!.Data[ch] = (1 - m) * RunningVar.Data[ch] + m * (float)(variance * count / (count - 1));
            }
        }
        if (TrackRunningStats) NumBatchesTracked!.Int64Data[0]++;

        // x̂ is not kept for backward (it would be one more activation-sized array per step): backward recomputes it
        // from x, the means and 1/σ.
        var output = new float[x.Numel];
        float[] means = [.. mean.Select(v => (float)v)];
        ReadOnlySpan<float> gamma = Weight is null ? null : Weight.Data, beta = Bias is null ? null : Bias.Data;
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                int start = (b * c + ch) * inner;
                float g = gamma.IsEmpty ? 1f : gamma[ch], shift = beta.IsEmpty ? 0f : beta[ch];
                Span<float> row = output.AsSpan(start, inner);
                Normalized(xs.Slice(start, inner), means[ch], invStd[ch], row);
                if (inner == 1)
                {
                    row[0] = row[0] * g + shift;
                    continue;
                }
                TensorPrimitives.Multiply(row, g, row);
                TensorPrimitives.Add(row, shift, row);
            }
        Tensor y = Tensor.Wrap(output, [.. x.Shape]);
        double share = (double)n * inner / count;   // n_r / N: this rank's part of the global batch
        Tensor[] inputs = Weight is null ? [x] : [x, Weight, Bias!];
        return Autograd.Record(y, "sync_batch_norm", inputs, dy => Backward(dy, x, n, c, inner, means, invStd, share, count));
    }

    /// <summary>x̂ = (x − μ)·(1/σ) of one run (one image's channel), as forward and backward both compute it.</summary>
    private static void Normalized(ReadOnlySpan<float> x, float mean, float invStd, Span<float> xhat)
    {
        if (x.Length == 1)
        {
            xhat[0] = (x[0] - mean) * invStd;
            return;
        }
        TensorPrimitives.Add(x, -mean, xhat);
        TensorPrimitives.Multiply(xhat, invStd, xhat);
    }

    private void Backward(Tensor dy, Tensor x, int n, int c, int inner, float[] means, float[] invStd, double share, double count)
    {
        ReadOnlySpan<float> g = dy.Data, xs = x.Data;
        Span<float> xhat = inner <= 64 ? stackalloc float[inner] : new float[inner];
        // Local Σdy and Σdy·x̂ per channel: the bias and weight gradients, and (at the common scale) the global sums.
        var sums = new double[2 * c];
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                int start = (b * c + ch) * inner;
                Normalized(xs.Slice(start, inner), means[ch], invStd[ch], xhat);
                sums[ch] += inner == 1 ? g[start] : TensorPrimitives.Sum(g.Slice(start, inner));
                sums[c + ch] += inner == 1 ? (double)g[start] * xhat[0] : TensorPrimitives.Dot(g.Slice(start, inner), xhat);
            }
        if (Weight is { RequiresGrad: true })
        {
            Span<float> dw = Autograd.GradTarget(Weight).ForAdding();
            for (int ch = 0; ch < c; ch++) dw[ch] += (float)sums[c + ch];
        }
        if (Bias is { RequiresGrad: true })
        {
            Span<float> db = Autograd.GradTarget(Bias).ForAdding();
            for (int ch = 0; ch < c; ch++) db[ch] += (float)sums[ch];
        }
        if (!x.RequiresGrad) return;
        var global = new double[2 * c];
        for (int i = 0; i < global.Length; i++) global[i] = sums[i] * share;
        Distributed.AllReduce(global);
        Span<float> dx = Autograd.GradTarget(x).ForAdding();
        ReadOnlySpan<float> gamma = Weight is null ? null : Weight.Data;
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                // dx = γ/σ·(dy − (mean of dy + x̂·mean of dy·x̂) / share), the means over the global batch at the common scale.
                float meanDy = (float)(global[ch] / count / share), meanDyX = (float)(global[c + ch] / count / share);
                float scale = (gamma.IsEmpty ? 1f : gamma[ch]) * invStd[ch];
                int start = (b * c + ch) * inner;
                Normalized(xs.Slice(start, inner), means[ch], invStd[ch], xhat);
                if (inner == 1)
                {
                    dx[start] += scale * (g[start] - meanDy - xhat[0] * meanDyX);
                    continue;
                }
                TensorPrimitives.MultiplyAdd(xhat, -meanDyX, g.Slice(start, inner), xhat);   // dy − x̂·m₂, in place
                TensorPrimitives.Add(xhat, -meanDy, xhat);
                Span<float> target = dx.Slice(start, inner);
                TensorPrimitives.MultiplyAdd(xhat, scale, target, target);
            }
    }
}
