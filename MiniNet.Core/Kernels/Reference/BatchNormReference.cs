using System.Diagnostics;

namespace MiniNet.Kernels.Reference;

// Batch-normalization kernels over x viewed as (N, C, L): channel c's values are x[n, c, l] for all n, l,
// m = N·L of them. (N, C) input has L = 1; (N, C, H, W) has L = H·W.
//
// Algorithm: statistics in two passes with double accumulators (mean, then Σ(x − μ)²), which stays accurate
// for inputs with a large mean and a small spread. x̂ is computed as (x − center)·invStd + offset, where center is
// μ rounded to float and offset = −(μ − center)·invStd carries the rounding error: x − center is exact when x is
// near μ, so a mean of 1e4 with a spread of 0.1 loses nothing. Backward uses the closed form
//   dx = (γ/σ)·(dy − mean(dy) − x̂·mean(dy·x̂)),  dγ = Σ dy·x̂,  dβ = Σ dy,
// recomputing x̂ from x instead of storing it. With L = 1 the loops run along rows (channels contiguous);
// otherwise along each (n, c) plane.
// Scalar twin of Kernels/BatchNormKernels.cs, with double accumulators: the specification the SIMD kernels are
// tested against. Its own specification is the layer composed of primitive ops (see the BatchNorm tests).
internal static class BatchNormReference
{
    /// <summary>Per-channel mean and biased variance, in double.</summary>
    public static void Statistics(ReadOnlySpan<float> x, int n, int c, int l, Span<double> mean, Span<double> variance)
    {
        Debug.Assert(x.Length == n * c * l && mean.Length == c && variance.Length == c);
        double m = (double)n * l;
        mean.Clear();
        variance.Clear();
        if (l == 1)
        {
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> row = x.Slice(i * c, c);
                for (int j = 0; j < c; j++) mean[j] += row[j];
            }
            for (int j = 0; j < c; j++) mean[j] /= m;
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> row = x.Slice(i * c, c);
                for (int j = 0; j < c; j++) { double d = row[j] - mean[j]; variance[j] += d * d; }
            }
            for (int j = 0; j < c; j++) variance[j] /= m;
            return;
        }
        for (int j = 0; j < c; j++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
                foreach (float v in x.Slice((i * c + j) * l, l)) sum += v;
            double mu = sum / m, squares = 0;
            for (int i = 0; i < n; i++)
                foreach (float v in x.Slice((i * c + j) * l, l)) { double d = v - mu; squares += d * d; }
            mean[j] = mu;
            variance[j] = squares / m;
        }
    }

    /// <summary>y[n, c, l] = (x[n, c, l] − center[c])·scale[c] + shift[c].</summary>
    public static void Normalize(ReadOnlySpan<float> x, int n, int c, int l, ReadOnlySpan<float> center,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y)
    {
        if (l == 1)
        {
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> row = x.Slice(i * c, c);
                Span<float> dst = y.Slice(i * c, c);
                for (int j = 0; j < c; j++) dst[j] = (row[j] - center[j]) * scale[j] + shift[j];
            }
            return;
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++)
            {
                ReadOnlySpan<float> src = x.Slice((i * c + j) * l, l);
                Span<float> dst = y.Slice((i * c + j) * l, l);
                float mu = center[j], s = scale[j], b = shift[j];
                for (int k = 0; k < l; k++) dst[k] = (src[k] - mu) * s + b;
            }
    }

    /// <summary>Per-channel Σ dy and Σ dy·x̂ with x̂ = (x − center)·invStd + offset, in double.</summary>
    public static void BackwardSums(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n, int c, int l,
        ReadOnlySpan<float> center, ReadOnlySpan<float> invStd, ReadOnlySpan<float> offset, Span<double> sumDy, Span<double> sumDyXhat)
    {
        sumDy.Clear();
        sumDyXhat.Clear();
        if (l == 1)
        {
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> row = x.Slice(i * c, c), g = dy.Slice(i * c, c);
                for (int j = 0; j < c; j++)
                {
                    sumDy[j] += g[j];
                    sumDyXhat[j] += g[j] * ((row[j] - center[j]) * invStd[j] + offset[j]);
                }
            }
            return;
        }
        for (int j = 0; j < c; j++)
        {
            double s = 0, sx = 0;
            float mu = center[j], inv = invStd[j], off = offset[j];
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> src = x.Slice((i * c + j) * l, l), g = dy.Slice((i * c + j) * l, l);
                for (int k = 0; k < l; k++) { s += g[k]; sx += g[k] * ((src[k] - mu) * inv + off); }
            }
            sumDy[j] = s;
            sumDyXhat[j] = sx;
        }
    }

    /// <summary>dx += k[c]·(dy − a[c] − x̂·b[c]) with x̂ = (x − center)·invStd + offset; for training k = γ/σ, a = mean(dy), b = mean(dy·x̂).</summary>
    public static void BackwardInput(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int n, int c, int l,
        ReadOnlySpan<float> center, ReadOnlySpan<float> invStd, ReadOnlySpan<float> offset, ReadOnlySpan<float> k, ReadOnlySpan<float> a,
        ReadOnlySpan<float> b, Span<float> dx)
    {
        if (l == 1)
        {
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> row = x.Slice(i * c, c), g = dy.Slice(i * c, c);
                Span<float> dst = dx.Slice(i * c, c);
                for (int j = 0; j < c; j++)
                    dst[j] += k[j] * (g[j] - a[j] - ((row[j] - center[j]) * invStd[j] + offset[j]) * b[j]);
            }
            return;
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++)
            {
                ReadOnlySpan<float> src = x.Slice((i * c + j) * l, l), g = dy.Slice((i * c + j) * l, l);
                Span<float> dst = dx.Slice((i * c + j) * l, l);
                float mu = center[j], inv = invStd[j], off = offset[j], kj = k[j], aj = a[j], bj = b[j];
                for (int q = 0; q < l; q++) dst[q] += kj * (g[q] - aj - ((src[q] - mu) * inv + off) * bj);
            }
    }
}
