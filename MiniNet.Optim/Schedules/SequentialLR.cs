namespace MiniNet.Optim;

/// <summary>Runs schedules one after another (PyTorch's SequentialLR): the first until <c>milestones[0]</c>, the next
/// from there with its own count restarting at 0, and so on; e.g. a <see cref="LinearLR"/> warm-up into a
/// <see cref="CosineAnnealingLR"/>. The pieces must be bound to the same optimizer; only this schedule is stepped.</summary>
public sealed class SequentialLR : LRScheduler
{
    private readonly LRScheduler[] _schedules;
    private readonly int[] _milestones;

    /// <summary>Chains <paramref name="schedules"/>, switching at each of the (increasing) <paramref name="milestones"/>.</summary>
    /// <exception cref="ArgumentException">Not one milestone fewer than schedules, milestones not increasing and positive,
    /// or a piece bound to another optimizer.</exception>
    public SequentialLR(Optimizer optimizer, IReadOnlyList<LRScheduler> schedules, IReadOnlyList<int> milestones) : base(optimizer)
    {
        ArgumentNullException.ThrowIfNull(schedules);
        ArgumentNullException.ThrowIfNull(milestones);
        if (schedules.Count == 0) throw new ArgumentException("SequentialLR: needs at least one schedule.", nameof(schedules));
        if (milestones.Count != schedules.Count - 1)
            throw new ArgumentException($"SequentialLR: {schedules.Count} schedules need {schedules.Count - 1} milestones, got {milestones.Count}.", nameof(milestones));
        for (int i = 0; i < schedules.Count; i++)
        {
            if (schedules[i] is null) throw new ArgumentNullException(nameof(schedules), $"SequentialLR: schedule {i} is null.");
            if (!ReferenceEquals(schedules[i].Optimizer, optimizer))
                throw new ArgumentException($"SequentialLR: schedule {i} ({schedules[i].GetType().Name}) is bound to another optimizer.", nameof(schedules));
        }
        for (int i = 0; i < milestones.Count; i++)
            if (milestones[i] <= (i == 0 ? 0 : milestones[i - 1]))
                throw new ArgumentException($"SequentialLR: milestones ({string.Join(", ", milestones)}) must be positive and increasing.", nameof(milestones));
        _schedules = [.. schedules];
        _milestones = [.. milestones];
        SetEpoch(0);
    }

    /// <inheritdoc/>
    protected override double LearningRate(double initialLr, int epoch)
    {
        int piece = 0;
        while (piece < _milestones.Length && epoch >= _milestones[piece]) piece++;
        int start = piece == 0 ? 0 : _milestones[piece - 1];
        return _schedules[piece].RateAt(initialLr, epoch - start);
    }
}
