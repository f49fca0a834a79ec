namespace MiniNet.Optim;

/// <summary>A set of parameters sharing hyperparameters; an optimizer has one group or several.</summary>
public sealed class ParamGroup
{
    /// <summary>Creates a group. <paramref name="lr"/> null means the optimizer's default learning rate.</summary>
    public ParamGroup(IEnumerable<Tensor> parameters, float? lr = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters.ToArray();
        foreach (Tensor p in Parameters)
            if (p is null) throw new ArgumentException("ParamGroup: a parameter is null.", nameof(parameters));
        Lr = lr ?? float.NaN;
    }

    /// <summary>The group's parameters.</summary>
    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>The group's current learning rate (schedules change it).</summary>
    public float Lr { get; set; }

    /// <summary>The learning rate the group started with (schedules compute from it).</summary>
    public float InitialLr { get; internal set; }
}
