namespace MiniNet;

/// <summary>The outcome of <see cref="GradCheck.Check"/>: the worst disagreement between analytic and numerical gradients.</summary>
/// <param name="Passed">True when every element satisfied |analytic − numeric| ≤ atol + rtol·|numeric|.</param>
/// <param name="MaxAbsError">The largest |analytic − numeric| over all checked elements.</param>
/// <param name="Elements">How many gradient elements were compared.</param>
/// <param name="Message">Where the worst mismatch was, in words.</param>
public sealed record GradCheckResult(bool Passed, double MaxAbsError, int Elements, string Message)
{
    /// <summary>Throws <see cref="InvalidOperationException"/> with <see cref="Message"/> unless the check passed.</summary>
    public void ThrowIfFailed()
    {
        if (!Passed) throw new InvalidOperationException(Message);
    }
}

/// <summary>Finite-difference gradient checking for ops and layers, including those users write themselves.</summary>
/// <remarks>
/// The scalar loss is L = Σ f(inputs) ⊙ R with a fixed random R (a plain sum would hide transposed gradients).
/// The analytic gradient comes from one backward pass; the numerical one from central differences
/// (L(x + h) − L(x − h)) / 2h per input element, with L accumulated in double. Defaults: h = 1e-2,
/// atol = 1e-3, rtol = 1e-2, suited to float32 on inputs of order 1 kept away from kinks (ReLU at 0, max ties).
/// </remarks>
public static class GradCheck
{
    /// <summary>Compares the gradients of Σ f(inputs)·R with respect to every input against central differences.</summary>
    /// <param name="f">The function under test; it must be deterministic (seed any randomness inside it).</param>
    /// <param name="inputs">Leaf tensors; they are copied, so the caller's tensors are not changed.</param>
    /// <param name="step">The finite-difference step h.</param>
    /// <param name="atol">Absolute tolerance.</param>
    /// <param name="rtol">Relative tolerance.</param>
    /// <param name="seed">Seed of the projection R.</param>
    public static GradCheckResult Check(Func<Tensor[], Tensor> f, Tensor[] inputs,
        float step = 1e-2f, double atol = 1e-3, double rtol = 1e-2, int seed = 12345)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length == 0) throw new ArgumentException("GradCheck: give at least one input.", nameof(inputs));
        Tensor[] xs = Array.ConvertAll(inputs, t => t.Clone());
        foreach (Tensor x in xs) x.RequiresGrad = true;

        Tensor output = f(xs);
        if (!output.RequiresGrad)
            throw new ArgumentException("GradCheck: the function's output does not depend on any input through recorded ops.");
        Tensor projection = Tensor.Uniform([.. output.Shape], -1f, 1f, Rng.Create(seed));
        output.Backward(projection);

        // The worst element is the one with the largest error relative to its own tolerance.
        double worstRatio = 0, worstError = 0;
        int elements = 0;
        string message = "no elements";
        for (int k = 0; k < xs.Length; k++)
        {
            Tensor x = xs[k];
            float[] analytic = x.Grad?.ToArray() ?? new float[x.Numel];
            Span<float> data = x.Data;
            for (int i = 0; i < x.Numel; i++, elements++)
            {
                float original = data[i];
                data[i] = original + step;
                double plus = Loss(f, xs, projection);
                data[i] = original - step;
                double minus = Loss(f, xs, projection);
                data[i] = original;
                double numeric = (plus - minus) / (2.0 * step);
                double error = Math.Abs(analytic[i] - numeric);
                double ratio = error / (atol + rtol * Math.Abs(numeric));
                worstError = Math.Max(worstError, error);
                if (ratio >= worstRatio || double.IsNaN(ratio))
                {
                    worstRatio = double.IsNaN(ratio) ? double.PositiveInfinity : ratio;
                    message = $"input {k} {Shapes.Format(x.Shape)}, element {i}: analytic {analytic[i]:G6}, numeric {numeric:G6} (|diff| {error:G3})";
                }
            }
        }
        bool passed = worstRatio <= 1;
        return new GradCheckResult(passed, worstError, elements, (passed ? "GradCheck passed; closest call: " : "GradCheck failed at ") + message);
    }

    private static double Loss(Func<Tensor[], Tensor> f, Tensor[] xs, Tensor projection)
    {
        using (Autograd.NoGrad())
        {
            ReadOnlySpan<float> y = f(xs).Data, r = projection.Data;
            double sum = 0;
            for (int i = 0; i < y.Length; i++) sum += (double)y[i] * r[i];
            return sum;
        }
    }
}
