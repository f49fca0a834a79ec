namespace MiniNet.Layers;

/// <summary>The per-feature affine map y = x·scale + shift that an evaluation-mode BatchNorm applies, computed from its
/// public state, for the fusion planner to fold into the layer before it.</summary>
internal static class InferenceAffine
{
    /// <summary>scale = γ/√(running σ² + ε) and shift = β − running μ·scale for each of the <paramref name="features"/>
    /// channels; the identity (ones, zeros) without a BatchNorm.</summary>
    /// <remarks>The same rounding as the evaluation-mode op: 1/σ in double, then γ·(1/σ) in float, so a fused layer's
    /// output equals the unfused chain up to the rounding of the fused products.</remarks>
    /// <exception cref="ArgumentException">The BatchNorm has another feature count.</exception>
    /// <exception cref="InvalidOperationException">The BatchNorm normalises with batch statistics (no such map exists).</exception>
    public static (float[] Scale, float[] Shift) Of(BatchNorm? norm, int features)
    {
        var scale = new float[features];
        var shift = new float[features];
        if (norm is null)
        {
            scale.AsSpan().Fill(1f);
            return (scale, shift);
        }
        if (norm.NumFeatures != features)
            throw new ArgumentException($"{norm.GetType().Name}({norm.NumFeatures}) normalises {norm.NumFeatures} features, not {features}.", nameof(features));
        if (norm.UsesBatchStatistics)
            throw new InvalidOperationException($"{norm.GetType().Name}({norm.NumFeatures}) normalises with batch statistics; it has no fixed affine map.");
        ReadOnlySpan<float> mean = norm.RunningMean!.Data, variance = norm.RunningVar!.Data;
        for (int j = 0; j < features; j++)
        {
            float invStd = (float)(1.0 / Math.Sqrt(variance[j] + (double)norm.Eps));
            float gamma = norm.Weight is null ? 1f : norm.Weight.Data[j];
            scale[j] = gamma * invStd;
            shift[j] = (norm.Bias is null ? 0f : norm.Bias.Data[j]) - mean[j] * scale[j];
        }
        return (scale, shift);
    }
}
