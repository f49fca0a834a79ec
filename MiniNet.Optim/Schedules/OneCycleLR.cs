namespace MiniNet.Optim;

/// <summary>The one-cycle policy (PyTorch's OneCycleLR), stepped once per optimizer step: the rate rises from
/// max/<see cref="DivFactor"/> to <see cref="MaxLr"/> over the first <see cref="PctStart"/> of
/// <see cref="TotalSteps"/>, then anneals to max/(divFactor·finalDivFactor); with <see cref="ThreePhase"/> it comes
/// back down to the start value first and anneals only in the last phase. The groups' own rates are replaced, as in
/// PyTorch. Momentum is not cycled (PyTorch's <c>cycle_momentum=False</c>).</summary>
public sealed class OneCycleLR : LRScheduler
{
    private readonly (double EndStep, double StartFactor, double EndFactor)[] _phases;

    /// <summary>Creates the schedule (PyTorch's defaults: 30% rising, cosine annealing, ÷25 at the start, ÷10⁴ more at the end).</summary>
    /// <param name="optimizer">Whose rates are set.</param>
    /// <param name="maxLr">The peak learning rate.</param>
    /// <param name="totalSteps">The number of optimizer steps in the run; stepping beyond it is an error.</param>
    /// <param name="pctStart">The fraction of the steps spent rising.</param>
    /// <param name="annealStrategy">"cos" or "linear".</param>
    /// <param name="divFactor">The start rate is maxLr / divFactor.</param>
    /// <param name="finalDivFactor">The final rate is the start rate / finalDivFactor.</param>
    /// <param name="threePhase">Rise, fall back to the start rate, then anneal.</param>
    public OneCycleLR(Optimizer optimizer, float maxLr, int totalSteps, float pctStart = 0.3f, string annealStrategy = "cos",
        float divFactor = 25f, float finalDivFactor = 1e4f, bool threePhase = false) : base(optimizer)
    {
        if (!(maxLr > 0f && float.IsFinite(maxLr))) throw new ArgumentOutOfRangeException(nameof(maxLr), maxLr, "maxLr must be positive and finite.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSteps);
        if (!(pctStart > 0f && pctStart < 1f)) throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "pctStart must be in (0, 1).");
        if (annealStrategy is not ("cos" or "linear"))
            throw new ArgumentException($"annealStrategy must be \"cos\" or \"linear\", not \"{annealStrategy}\".", nameof(annealStrategy));
        if (!(divFactor > 0f)) throw new ArgumentOutOfRangeException(nameof(divFactor), divFactor, "divFactor must be positive.");
        if (!(finalDivFactor > 0f)) throw new ArgumentOutOfRangeException(nameof(finalDivFactor), finalDivFactor, "finalDivFactor must be positive.");
        (MaxLr, TotalSteps, PctStart, AnnealStrategy, DivFactor, FinalDivFactor, ThreePhase) =
            (maxLr, totalSteps, pctStart, annealStrategy, divFactor, finalDivFactor, threePhase);
        // Factors of maxLr at the phase ends; the end steps as PyTorch computes them (in floating point, minus one).
        double start = 1.0 / divFactor, final = start / finalDivFactor, rise = (double)pctStart * totalSteps - 1;
        _phases = threePhase
            ? [(rise, start, 1.0), (2.0 * pctStart * totalSteps - 2, 1.0, start), (totalSteps - 1, start, final)]
            : [(rise, start, 1.0), (totalSteps - 1, 1.0, final)];
        // A phase that a step reaches must not end where it starts, or its position is 0/0: the first phase when
        // pctStart·totalSteps is 1, the last when the phase before it ends at totalSteps − 1. (PyTorch fails there with a
        // ZeroDivisionError at that step; phases of negative length are never reached, so they are left as PyTorch
        // leaves them.)
        if (_phases[0].EndStep == 0 || _phases[^1].EndStep == _phases[^2].EndStep)
            throw new ArgumentException(
                $"OneCycleLR: totalSteps {totalSteps} with pctStart {pctStart}{(threePhase ? " in three phases" : "")} leaves a phase without steps; " +
                "give more steps or another pctStart.", nameof(pctStart));
        SetEpoch(0);
    }

    /// <summary>The peak learning rate.</summary>
    public float MaxLr { get; }
    /// <summary>The steps in the cycle.</summary>
    public int TotalSteps { get; }
    /// <summary>The fraction of steps spent rising.</summary>
    public float PctStart { get; }
    /// <summary>"cos" or "linear".</summary>
    public string AnnealStrategy { get; }
    /// <summary>maxLr over the start rate.</summary>
    public float DivFactor { get; }
    /// <summary>The start rate over the final rate.</summary>
    public float FinalDivFactor { get; }
    /// <summary>Whether the cycle has three phases.</summary>
    public bool ThreePhase { get; }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The step is beyond <see cref="TotalSteps"/>.</exception>
    protected override double LearningRate(double initialLr, int epoch)
    {
        if (epoch > TotalSteps)
            throw new InvalidOperationException($"OneCycleLR: step {epoch} is beyond totalSteps {TotalSteps}; make totalSteps cover the whole run.");
        double phaseStart = 0;
        for (int i = 0; i < _phases.Length; i++)
        {
            (double end, double from, double to) = _phases[i];
            if (epoch <= end || i == _phases.Length - 1)
            {
                double pct = (epoch - phaseStart) / (end - phaseStart);
                double factor = AnnealStrategy == "cos" ? to + (from - to) / 2 * (Math.Cos(Math.PI * pct) + 1) : (to - from) * pct + from;
                return MaxLr * factor;
            }
            phaseStart = end;
        }
        throw new InvalidOperationException("OneCycleLR: no phase.");   // unreachable: the last phase takes every step
    }
}
