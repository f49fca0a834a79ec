namespace MiniNet.Optim;

/// <summary>lr = initial·γ^(number of milestones ≤ epoch).</summary>
public sealed class MultiStepLR : LRScheduler
{
    private readonly int[] _milestones;

    /// <summary>Decays by <paramref name="gamma"/> at each epoch in <paramref name="milestones"/>.</summary>
    public MultiStepLR(Optimizer optimizer, IEnumerable<int> milestones, float gamma = 0.1f) : base(optimizer)
    {
        ArgumentNullException.ThrowIfNull(milestones);
        _milestones = milestones.Order().ToArray();
        if (_milestones.Any(m => m < 0)) throw new ArgumentOutOfRangeException(nameof(milestones), "milestones must be non-negative.");
        if (!(gamma > 0f)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be positive.");
        Gamma = gamma;
        SetEpoch(0);
    }

    /// <summary>Decay factor.</summary>
    public float Gamma { get; }

    /// <inheritdoc/>
    protected override double LearningRate(double initialLr, int epoch) =>
        initialLr * Math.Pow(Gamma, _milestones.Count(m => m <= epoch));
}
