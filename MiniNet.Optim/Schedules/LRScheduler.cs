namespace MiniNet.Optim;

/// <summary>Base of learning-rate schedules: call <see cref="Step"/> once per epoch after the optimizer's steps, or once
/// per optimizer step for a schedule counted in steps (give its lengths in steps then: a warm-up of 500 steps, a
/// <see cref="OneCycleLR"/> over every step of the run).</summary>
/// <remarks>Each schedule is a closed-form function of the step count and the group's initial learning rate, so
/// restoring <see cref="LastEpoch"/> (through <see cref="StateDict"/>) resumes it exactly.</remarks>
public abstract class LRScheduler
{
    /// <summary>Binds to <paramref name="optimizer"/>. Each schedule's constructor ends with <c>SetEpoch(0)</c>, which sets
    /// the epoch-0 learning rates from the groups' initial ones.</summary>
    protected LRScheduler(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
    }

    /// <summary>The optimizer whose learning rates are set.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Completed epochs (0 before the first <see cref="Step"/>).</summary>
    public int LastEpoch { get; private set; }

    /// <summary>Advances one epoch and sets every group's learning rate.</summary>
    public void Step() => Apply(LastEpoch + 1);

    /// <summary>Jumps to <paramref name="epoch"/> (for resuming) and sets the learning rates.</summary>
    public void SetEpoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        Apply(epoch);
    }

    /// <summary>The learning rate at <paramref name="epoch"/> for a group that started at <paramref name="initialLr"/>.</summary>
    protected abstract double LearningRate(double initialLr, int epoch);

    /// <summary>The learning rate this schedule gives at <paramref name="epoch"/> to a group that started at
    /// <paramref name="initialLr"/>, without changing anything (as <see cref="SequentialLR"/> uses its pieces).</summary>
    public double RateAt(double initialLr, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return LearningRate(initialLr, epoch);
    }

    /// <summary>The schedule's state, PyTorch's <c>last_epoch</c>: everything else follows from the constructor's
    /// arguments and the groups' initial learning rates.</summary>
    public IReadOnlyDictionary<string, double> StateDict() => new Dictionary<string, double> { ["last_epoch"] = LastEpoch };

    /// <summary>Restores a <see cref="StateDict"/> and sets the learning rates it implies.</summary>
    /// <exception cref="ArgumentException">A key is missing or unknown, or the epoch is not a non-negative integer.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        ScheduleState.CheckKeys(state, ["last_epoch"], GetType().Name);
        SetEpoch(ScheduleState.Count(state, "last_epoch", GetType().Name));
    }

    /// <summary>Moves to <paramref name="epoch"/>: every group's rate is computed before anything changes, so a step the
    /// schedule refuses (beyond OneCycleLR's end, say) leaves the epoch and the rates as they were.</summary>
    private void Apply(int epoch)
    {
        IReadOnlyList<ParamGroup> groups = Optimizer.ParamGroups;
        Span<float> rates = groups.Count <= 16 ? stackalloc float[groups.Count] : new float[groups.Count];
        for (int i = 0; i < rates.Length; i++)
        {
            double rate = LearningRate(groups[i].InitialLr, epoch);
            if (!double.IsFinite(rate))
                throw new InvalidOperationException($"{GetType().Name}: the learning rate at epoch {epoch} is {rate} for group {i}.");
            rates[i] = (float)rate;
        }
        for (int i = 0; i < rates.Length; i++) groups[i].Lr = rates[i];
        LastEpoch = epoch;
    }
}

/// <summary>Checks on schedule state dictionaries, shared by every schedule.</summary>
internal static class ScheduleState
{
    /// <summary>Throws unless <paramref name="state"/> holds exactly <paramref name="keys"/>.</summary>
    public static void CheckKeys(IReadOnlyDictionary<string, double> state, IReadOnlyCollection<string> keys, string schedule)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (string key in keys)
            if (!state.ContainsKey(key))
                throw new ArgumentException($"{schedule}.LoadStateDict: the state lacks \"{key}\".", nameof(state));
        foreach (string key in state.Keys)
            if (!keys.Contains(key))
                throw new ArgumentException($"{schedule}.LoadStateDict: unknown key \"{key}\" (expected {string.Join(", ", keys)}).", nameof(state));
    }

    /// <summary>A state value that must be a non-negative integer (an epoch or a counter).</summary>
    public static int Count(IReadOnlyDictionary<string, double> state, string key, string schedule)
    {
        double v = state[key];
        if (!(v >= 0 && v <= int.MaxValue && Math.Floor(v) == v))
            throw new ArgumentException($"{schedule}.LoadStateDict: \"{key}\" is {v}; it must be a non-negative integer.", nameof(state));
        return (int)v;
    }
}
