namespace MiniNet.Optim;

/// <summary>lr = initial·γ^⌊epoch / stepSize⌋.</summary>
public sealed class StepLR : LRScheduler
{
    /// <summary>Decays by <paramref name="gamma"/> every <paramref name="stepSize"/> epochs.</summary>
    public StepLR(Optimizer optimizer, int stepSize, float gamma = 0.1f) : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepSize);
        if (!(gamma > 0f)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be positive.");
        (StepSize, Gamma) = (stepSize, gamma);
        SetEpoch(0);
    }

    /// <summary>Epochs between decays.</summary>
    public int StepSize { get; }

    /// <summary>Decay factor.</summary>
    public float Gamma { get; }

    /// <inheritdoc/>
    protected override double LearningRate(double initialLr, int epoch) =>
        initialLr * Math.Pow(Gamma, epoch / StepSize);
}
