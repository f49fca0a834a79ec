using System.Numerics;

namespace MiniNet.Kernels;

// Optimizer updates, one pass over parameter, gradient and state per parameter instead of one pass per arithmetic
// step (the updates are memory-bound, so passes are what cost). Each element is computed the same way whatever its
// position (the vector lanes and the scalar tail use the same operations), so a result depends neither on the length
// nor on the split over threads (slices start at multiples of 64 elements). Called by MiniNet.Optim.
// Reference twin: Kernels/Reference/OptimizerReference.cs.
internal static unsafe class OptimizerKernels
{
    /// <summary>SGD with momentum, PyTorch's rule after the first step, in its common case (no weight decay, no
    /// Nesterov), with fused multiply-adds: v ← μ·v + (1 − dampening)·g; p ← p − lr·v, for the first
    /// <paramref name="length"/> elements.</summary>
    /// <exception cref="ArgumentException">An array is shorter than <paramref name="length"/>.</exception>
    public static void SgdMomentum(float[] p, float[] g, float[] v, int length, float lr, float momentum, float dampening)
    {
        CheckLengths("SgdMomentum", length, p, g, v);
        if (Parallelism.ThreadsFor(length) == 1) SgdMomentumSlice(p, g, v, 0, length, lr, momentum, dampening);
        else Parallelism.ForSlices(length, SgdMomentumSlices(p, g, v, lr, momentum, dampening));
    }

    // The parallel bodies are made in methods of their own: a lambda's captures are allocated where its method starts,
    // and a small update (one thread) should allocate nothing.
    private static Action<int, int> SgdMomentumSlices(float[] p, float[] g, float[] v, float lr, float momentum, float dampening) =>
        (start, count) => SgdMomentumSlice(p, g, v, start, count, lr, momentum, dampening);

    private static void SgdMomentumSlice(float[] p, float[] g, float[] v, int start, int count, float lr, float momentum, float dampening)
    {
        float keep = 1f - dampening;
        fixed (float* pp = p, pg = g, pv = v)
        {
            int i = start, end = start + count;
            Vector<float> mu = new(momentum), k = new(keep), step = new(-lr);
            for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
            {
                var velocity = Vector.FusedMultiplyAdd(Vector.Load(pv + i), mu, Vector.Load(pg + i) * k);
                velocity.Store(pv + i);
                Vector.FusedMultiplyAdd(velocity, step, Vector.Load(pp + i)).Store(pp + i);
            }
            for (; i < end; i++)
            {
                pv[i] = MathF.FusedMultiplyAdd(pv[i], momentum, pg[i] * keep);
                pp[i] = MathF.FusedMultiplyAdd(pv[i], -lr, pp[i]);
            }
        }
    }

    /// <summary>The hyperparameters of one <see cref="Sgd"/> update.</summary>
    /// <param name="FirstStep">The momentum buffer holds nothing yet: it takes the gradient as it is.</param>
    public readonly record struct SgdStep(float Lr, float Momentum, float Dampening, float WeightDecay, bool Nesterov, bool FirstStep);

    /// <summary>SGD, PyTorch's whole rule, each step rounded separately (no fused multiply-adds):
    /// g' = g + wd·p; with momentum v ← g' (first step) or μ·v + (1 − dampening)·g', and g' ← g' + μ·v (Nesterov) or v;
    /// p ← p − lr·g'. <paramref name="v"/> may be null without momentum.</summary>
    /// <exception cref="ArgumentException">An array is shorter than <paramref name="length"/>.</exception>
    public static void Sgd(float[] p, float[] g, float[]? v, int length, SgdStep s)
    {
        CheckLengths("Sgd", length, p, g, v ?? p);
        bool momentum = s.Momentum != 0f;
        if (momentum && v is null) throw new ArgumentException("Sgd: momentum needs a velocity buffer.", nameof(v));
        if (Parallelism.ThreadsFor(length) == 1) SgdSlice(p, g, v, 0, length, s);
        else Parallelism.ForSlices(length, SgdSlices(p, g, v, s));
    }

    private static Action<int, int> SgdSlices(float[] p, float[] g, float[]? v, SgdStep s) => (start, count) => SgdSlice(p, g, v, start, count, s);

    private static void SgdSlice(float[] p, float[] g, float[]? v, int start, int count, SgdStep s)
    {
        bool momentum = s.Momentum != 0f;
        fixed (float* pp = p, pg = g, pv = v)
        {
            int i = start, end = start + count;
            for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector<float> param = Vector.Load(pp + i), grad = Vector.Load(pg + i);
                if (s.WeightDecay != 0f) grad = param * s.WeightDecay + grad;
                if (momentum)
                {
                    Vector<float> velocity = s.FirstStep ? grad : grad * (1f - s.Dampening) + Vector.Load(pv + i) * s.Momentum;
                    velocity.Store(pv + i);
                    grad = s.Nesterov ? velocity * s.Momentum + grad : velocity;
                }
                (grad * -s.Lr + param).Store(pp + i);
            }
            for (; i < end; i++)
            {
                float grad = pg[i];
                if (s.WeightDecay != 0f) grad = pp[i] * s.WeightDecay + grad;
                if (momentum)
                {
                    float velocity = s.FirstStep ? grad : grad * (1f - s.Dampening) + pv[i] * s.Momentum;
                    pv[i] = velocity;
                    grad = s.Nesterov ? velocity * s.Momentum + grad : velocity;
                }
                pp[i] = grad * -s.Lr + pp[i];
            }
        }
    }

    /// <summary>The hyperparameters of one <see cref="Adam"/> update at step t.</summary>
    /// <param name="StepSize">lr / (1 − β₁ᵗ), computed in double and rounded once.</param>
    /// <param name="Correction2">√(1 − β₂ᵗ).</param>
    /// <param name="Decay">The decoupled decay factor 1 − lr·weightDecay (AdamW), or 1.</param>
    /// <param name="WeightDecay">The L2 term added to the gradient (Adam), or 0.</param>
    public readonly record struct AdamStep(float Beta1, float Beta2, float Eps, float StepSize, float Correction2, float Decay, float WeightDecay);

    /// <summary>Adam, PyTorch's rule, each step rounded separately: p ← p·decay; g' = g + wd·p; m ← β₁·m + (1 − β₁)·g';
    /// v ← β₂·v + (1 − β₂)·g'²; v̂ ← max(v̂, v) (AMSGrad, when <paramref name="vMax"/> is not null);
    /// p ← p − stepSize·m / (√v̂ / correction₂ + ε).</summary>
    /// <exception cref="ArgumentException">An array is shorter than <paramref name="length"/>.</exception>
    public static void Adam(float[] p, float[] g, float[] m, float[] v, float[]? vMax, int length, AdamStep s)
    {
        CheckLengths("Adam", length, p, g, m);
        CheckLengths("Adam", length, v, vMax ?? v, v);
        if (Parallelism.ThreadsFor(length) == 1) AdamSlice(p, g, m, v, vMax, 0, length, s);
        else Parallelism.ForSlices(length, AdamSlices(p, g, m, v, vMax, s));
    }

    private static Action<int, int> AdamSlices(float[] p, float[] g, float[] m, float[] v, float[]? vMax, AdamStep s) =>
        (start, count) => AdamSlice(p, g, m, v, vMax, start, count, s);

    private static void AdamSlice(float[] p, float[] g, float[] m, float[] v, float[]? vMax, int start, int count, AdamStep s)
    {
        fixed (float* pp = p, pg = g, pm = m, pv = v, pvMax = vMax)
        {
            int i = start, end = start + count;
            float keep1 = 1f - s.Beta1, keep2 = 1f - s.Beta2, step = -s.StepSize;
            for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector<float> param = Vector.Load(pp + i), grad = Vector.Load(pg + i);
                if (s.Decay != 1f) param *= s.Decay;
                if (s.WeightDecay != 0f) grad = param * s.WeightDecay + grad;
                Vector<float> first = grad * keep1 + Vector.Load(pm + i) * s.Beta1;
                Vector<float> second = Vector.Load(pv + i) * s.Beta2 + grad * keep2 * grad;
                first.Store(pm + i);
                second.Store(pv + i);
                if (pvMax != null)
                {
                    second = Vector.Max(Vector.Load(pvMax + i), second);
                    second.Store(pvMax + i);
                }
                Vector<float> denominator = Vector.SquareRoot(second) / s.Correction2 + new Vector<float>(s.Eps);
                (param + step * (first / denominator)).Store(pp + i);
            }
            for (; i < end; i++)
            {
                float param = pp[i], grad = pg[i];
                if (s.Decay != 1f) param *= s.Decay;
                if (s.WeightDecay != 0f) grad = param * s.WeightDecay + grad;
                float first = grad * keep1 + pm[i] * s.Beta1;
                float second = pv[i] * s.Beta2 + keep2 * grad * grad;
                pm[i] = first;
                pv[i] = second;
                if (pvMax != null) second = pvMax[i] = MathF.Max(pvMax[i], second);
                float denominator = MathF.Sqrt(second) / s.Correction2 + s.Eps;
                pp[i] = param + step * (first / denominator);
            }
        }
    }

    private static void CheckLengths(string kernel, int length, float[] a, float[] b, float[] c)
    {
        if (length < 0 || a.Length < length || b.Length < length || c.Length < length)
            throw new ArgumentException($"{kernel}: {length} elements, but the arrays hold {a.Length}, {b.Length} and {c.Length}.");
    }
}
