namespace MiniNet.Optim;

/// <summary>Lowers the learning rate when a metric stops improving (PyTorch's ReduceLROnPlateau): call
/// <see cref="Step(double)"/> with the validation loss (or accuracy, with mode "max") once per epoch. After
/// <see cref="Patience"/> epochs without an improvement beyond <see cref="Threshold"/>, every group's rate is multiplied
/// by <see cref="Factor"/> (not below <see cref="MinLr"/>), then <see cref="Cooldown"/> epochs pass before counting
/// again.</summary>
public sealed class ReduceLROnPlateau
{
    /// <summary>Creates the schedule (PyTorch's defaults).</summary>
    /// <param name="optimizer">Whose rates are lowered.</param>
    /// <param name="mode">"min" (a loss) or "max" (an accuracy).</param>
    /// <param name="factor">The multiplier, in (0, 1).</param>
    /// <param name="patience">Epochs without improvement tolerated.</param>
    /// <param name="threshold">The improvement that counts: relative (best·(1 ∓ threshold)) or absolute (best ∓ threshold).</param>
    /// <param name="thresholdMode">"rel" or "abs".</param>
    /// <param name="cooldown">Epochs to wait after a reduction before counting bad epochs again.</param>
    /// <param name="minLr">The floor of every group's rate.</param>
    /// <param name="eps">A reduction smaller than this is skipped.</param>
    public ReduceLROnPlateau(Optimizer optimizer, string mode = "min", float factor = 0.1f, int patience = 10, float threshold = 1e-4f,
        string thresholdMode = "rel", int cooldown = 0, float minLr = 0f, float eps = 1e-8f)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (mode is not ("min" or "max")) throw new ArgumentException($"mode must be \"min\" or \"max\", not \"{mode}\".", nameof(mode));
        if (!(factor > 0f && factor < 1f)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "factor must be in (0, 1).");
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        if (!(threshold >= 0f)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "threshold must be non-negative.");
        if (thresholdMode is not ("rel" or "abs"))
            throw new ArgumentException($"thresholdMode must be \"rel\" or \"abs\", not \"{thresholdMode}\".", nameof(thresholdMode));
        ArgumentOutOfRangeException.ThrowIfNegative(cooldown);
        if (!(minLr >= 0f)) throw new ArgumentOutOfRangeException(nameof(minLr), minLr, "minLr must be non-negative.");
        if (!(eps >= 0f)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be non-negative.");
        (Optimizer, Mode, Factor, Patience, Threshold, ThresholdMode, Cooldown, MinLr, Eps) =
            (optimizer, mode, factor, patience, threshold, thresholdMode, cooldown, minLr, eps);
        Best = mode == "min" ? double.PositiveInfinity : double.NegativeInfinity;
    }

    /// <summary>The optimizer whose rates are set.</summary>
    public Optimizer Optimizer { get; }
    /// <summary>"min" or "max".</summary>
    public string Mode { get; }
    /// <summary>The multiplier applied on a plateau.</summary>
    public float Factor { get; }
    /// <summary>Epochs without improvement tolerated.</summary>
    public int Patience { get; }
    /// <summary>The improvement that counts.</summary>
    public float Threshold { get; }
    /// <summary>"rel" or "abs".</summary>
    public string ThresholdMode { get; }
    /// <summary>Epochs skipped after a reduction.</summary>
    public int Cooldown { get; }
    /// <summary>The floor of every rate.</summary>
    public float MinLr { get; }
    /// <summary>The smallest reduction applied.</summary>
    public float Eps { get; }

    /// <summary>The best metric so far.</summary>
    public double Best { get; private set; }
    /// <summary>Consecutive epochs without improvement.</summary>
    public int BadEpochs { get; private set; }
    /// <summary>Epochs of cooldown left.</summary>
    public int CooldownLeft { get; private set; }
    /// <summary>Epochs stepped.</summary>
    public int LastEpoch { get; private set; }

    /// <summary>Records one epoch's metric and lowers the rates on a plateau.</summary>
    /// <exception cref="ArgumentException">The metric is NaN.</exception>
    public void Step(double metric)
    {
        if (double.IsNaN(metric)) throw new ArgumentException("ReduceLROnPlateau.Step: the metric is NaN.", nameof(metric));
        LastEpoch++;
        if (IsBetter(metric)) { Best = metric; BadEpochs = 0; }
        else BadEpochs++;
        if (CooldownLeft > 0) { CooldownLeft--; BadEpochs = 0; }
        if (BadEpochs <= Patience) return;
        foreach (ParamGroup g in Optimizer.ParamGroups)
        {
            float lowered = Math.Max(g.Lr * Factor, MinLr);
            if (g.Lr - lowered > Eps) g.Lr = lowered;
        }
        CooldownLeft = Cooldown;
        BadEpochs = 0;
    }

    private bool IsBetter(double metric) => (Mode, ThresholdMode) switch
    {
        ("min", "rel") => metric < Best * (1 - Threshold),
        ("min", _) => metric < Best - Threshold,
        (_, "rel") => metric > Best * (1 + Threshold),
        _ => metric > Best + Threshold,
    };

    /// <summary>The state: the epoch, the best metric, the counters, and each group's current rate ("lr.0", "lr.1", …),
    /// which a plateau schedule cannot recompute.</summary>
    public IReadOnlyDictionary<string, double> StateDict()
    {
        var state = new Dictionary<string, double>
        {
            ["last_epoch"] = LastEpoch, ["best"] = Best, ["num_bad_epochs"] = BadEpochs, ["cooldown_counter"] = CooldownLeft,
        };
        for (int i = 0; i < Optimizer.ParamGroups.Count; i++) state[$"lr.{i}"] = Optimizer.ParamGroups[i].Lr;
        return state;
    }

    /// <summary>Restores a <see cref="StateDict"/>, the groups' rates included.</summary>
    /// <exception cref="ArgumentException">A key is missing or unknown (the number of groups differs), or a value is invalid.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        string[] keys = ["last_epoch", "best", "num_bad_epochs", "cooldown_counter", .. Enumerable.Range(0, Optimizer.ParamGroups.Count).Select(i => $"lr.{i}")];
        ScheduleState.CheckKeys(state, keys, nameof(ReduceLROnPlateau));
        int epoch = ScheduleState.Count(state, "last_epoch", nameof(ReduceLROnPlateau));
        int bad = ScheduleState.Count(state, "num_bad_epochs", nameof(ReduceLROnPlateau));
        int cooldown = ScheduleState.Count(state, "cooldown_counter", nameof(ReduceLROnPlateau));
        double best = state["best"];
        if (double.IsNaN(best)) throw new ArgumentException("ReduceLROnPlateau.LoadStateDict: \"best\" is NaN.", nameof(state));
        var rates = new float[Optimizer.ParamGroups.Count];
        for (int i = 0; i < rates.Length; i++)
        {
            double lr = state[$"lr.{i}"];
            if (!(lr >= 0 && double.IsFinite(lr)))
                throw new ArgumentException($"ReduceLROnPlateau.LoadStateDict: \"lr.{i}\" is {lr}; it must be finite and non-negative.", nameof(state));
            rates[i] = (float)lr;
        }
        (LastEpoch, BadEpochs, CooldownLeft, Best) = (epoch, bad, cooldown, best);
        for (int i = 0; i < rates.Length; i++) Optimizer.ParamGroups[i].Lr = rates[i];
    }
}
