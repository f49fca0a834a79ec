namespace MiniNet.Optim;

/// <summary>Base of learning-rate schedules: call <see cref="Step"/> once per epoch, after the optimizer's steps.</summary>
/// <remarks>Each schedule is a closed-form function of the epoch count and the group's initial learning rate, so
/// restoring <see cref="LastEpoch"/> resumes it exactly.</remarks>
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
    public void Step()
    {
        LastEpoch++;
        Apply();
    }

    /// <summary>Jumps to <paramref name="epoch"/> (for resuming) and sets the learning rates.</summary>
    public void SetEpoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        LastEpoch = epoch;
        Apply();
    }

    /// <summary>The learning rate at <paramref name="epoch"/> for a group that started at <paramref name="initialLr"/>.</summary>
    protected abstract double LearningRate(double initialLr, int epoch);

    private void Apply()
    {
        foreach (ParamGroup g in Optimizer.ParamGroups) g.Lr = (float)LearningRate(g.InitialLr, LastEpoch);
    }
}
