namespace MiniNet.Layers;

/// <summary>What <see cref="Sequential.Freeze"/> did with a module of the model, or with a run of modules it folded.</summary>
public enum FreezeAction
{
    /// <summary>A Dense or Conv2d, with the BatchNorm and activation after it, became one <see cref="FrozenLinear"/> or
    /// <see cref="FrozenConv2d"/> with its weight packed once.</summary>
    Folded,

    /// <summary>A module that cannot be folded is carried as a deep copy of itself (<see cref="Module.Clone"/>), in
    /// evaluation mode, its parameters needing no gradient.</summary>
    Copied,

    /// <summary>A Dropout, the identity in evaluation, is left out.</summary>
    Removed,
}

/// <summary>One entry of a frozen model's <see cref="FrozenSequential.Plan"/>.</summary>
/// <param name="Modules">The dotted names of the model's modules it stands for ("0", "1", "2"; "3.1" inside a nested Sequential).</param>
/// <param name="Step">The frozen model's step, or null for a module left out.</param>
/// <param name="Action">What Freeze did.</param>
public sealed record FrozenStep(IReadOnlyList<string> Modules, Module? Step, FreezeAction Action)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{string.Join(", ", Modules)} → {(Step is null ? "(removed)" : Step.ToString().Replace("\n", "\n    "))} [{Action.ToString().ToLowerInvariant()}]";
}

/// <summary>An inference-only snapshot of a <see cref="Sequential"/> in evaluation mode, made by
/// <see cref="Sequential.Freeze"/> (like <c>torch.jit.freeze</c>): each <see cref="Dense"/>, with the evaluation-mode
/// <see cref="BatchNorm1d"/> and the <see cref="ReLU"/> or <see cref="Sigmoid"/> after it, becomes one
/// <see cref="FrozenLinear"/>, whose weight is packed for the matrix multiply once instead of on every call, and each
/// <see cref="Conv2d"/> with the <see cref="BatchNorm2d"/> and activation after it one <see cref="FrozenConv2d"/>.
/// Every other module is carried as a deep copy; <see cref="Plan"/> says what became of each.</summary>
/// <remarks>The weights, biases and running statistics are copied when it is made: training the original model further
/// does not change it (freeze again). Dropout is left out (the identity in evaluation). It has no parameters (the
/// copies' are not its own and need no gradient) and records no graph; no forward hook of the original model runs in
/// it. Its steps run through the fusion planner, like a Sequential's (a copied BatchNorm followed by a ReLU runs as one
/// op). Its output equals the original model's evaluation-mode output up to float rounding, and is bitwise equal to the
/// model's own fused inference path under <see cref="Autograd.NoGrad"/> when the model is one flat Sequential (Freeze
/// flattens nested ones and folds across their boundaries, which the model's own path does not).</remarks>
public sealed class FrozenSequential : Module
{
    [NotRegistered] private readonly Module[] _steps;   // snapshots: no parameters of this model's own (see the remarks)
    // The plan by index into _steps (−1: left out), so that a clone's plan names the clone's steps.
    private readonly (string[] Modules, int Step, FreezeAction Action)[] _plan;

    internal FrozenSequential(IReadOnlyList<FrozenStep> plan)
    {
        _steps = plan.Where(p => p.Step is not null).Select(p => p.Step!).ToArray();
        int next = 0;
        _plan = plan.Select(p => (p.Modules.ToArray(), p.Step is null ? -1 : next++, p.Action)).ToArray();
        Eval();
    }

    /// <summary>The steps, in order: <see cref="FrozenLinear"/> and <see cref="FrozenConv2d"/> for the folded runs and
    /// deep copies of the other modules.</summary>
    public IReadOnlyList<Module> Steps => _steps;

    /// <summary>What Freeze made of each of the model's modules, in order (see <see cref="FreezeAction"/>).</summary>
    public IReadOnlyList<FrozenStep> Plan => _plan.Select(p => new FrozenStep(p.Modules, p.Step < 0 ? null : _steps[p.Step], p.Action)).ToList();

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A step's input has the wrong shape; the message names the step.</exception>
    /// <exception cref="InvalidOperationException">Gradient recording is on and x requires grad.</exception>
    /// <exception cref="ArithmeticException">Under <see cref="Autograd.DetectAnomaly"/>, a step produced or was given a NaN
    /// or an infinity; the message names the step and the model's modules it stands for.</exception>
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (Autograd.Enabled && x.RequiresGrad)
            throw new InvalidOperationException(
                "FrozenSequential is inference-only and records no graph: call it under Autograd.NoGrad(), or on a tensor that does not require grad.");
        for (int i = 0; i < _steps.Length;)
        {
            try
            {
                x = Fusion.Step(_steps, i, x, FusionKinds.All, out int consumed);
                i += consumed;
            }
            catch (ArgumentException e) when (e.GetType() == typeof(ArgumentException))
            {
                // A shape error from inside a step: say which step (steps count after folding, see Steps).
                throw new ArgumentException($"FrozenSequential: {StepName(i)}: {e.Message}", nameof(x), e);
            }
            catch (ArithmeticException e)
            {
                // Anomaly detection: the step that produced (or was given) a NaN or an infinity, and the model's modules it stands for.
                throw new ArithmeticException($"FrozenSequential: {StepName(i)}: {e.Message}", e);
            }
        }
        return x;
    }

    /// <summary>"step i (the step) for modules a, b, c": steps count after folding (see <see cref="Steps"/>), the
    /// modules are the original model's.</summary>
    private string StepName(int i)
    {
        string[] modules = _plan.First(p => p.Step == i).Modules;
        return $"step {i} ({_steps[i]}, for module{(modules.Length == 1 ? "" : "s")} {string.Join(", ", modules)})";
    }

    /// <inheritdoc/>
    public override string ToString() => "FrozenSequential(\n  " + string.Join("\n  ", Plan) + "\n)";
}
