namespace MiniNet.Layers;

/// <summary>An inference-only snapshot of a <see cref="Sequential"/> in evaluation mode, made by
/// <see cref="Sequential.Freeze"/> (like <c>torch.jit.freeze</c>): each <see cref="Dense"/>, with the evaluation-mode
/// <see cref="BatchNorm1d"/> and the <see cref="ReLU"/> or <see cref="Sigmoid"/> after it, becomes one
/// <see cref="FrozenLinear"/>, whose weight is packed for the matrix multiply once instead of on every call, and each
/// <see cref="Conv2d"/> with the <see cref="BatchNorm2d"/> and activation after it one <see cref="FrozenConv2d"/>.</summary>
/// <remarks>The weights, biases and running statistics are copied when it is made: training the original model further
/// does not change it (freeze again). Dropout is left out (the identity in evaluation). Other modules without
/// parameters or buffers (activations, pooling, flatten) are shared with the model and run through their
/// <see cref="Module.Forward"/>: no forward hooks run in a frozen model, and a custom parameter-free module whose output
/// depends on <see cref="Module.Training"/> follows the mode the model is in. It has no parameters and records no
/// graph. Its output equals the original model's evaluation-mode output up to float rounding, and is bitwise equal to
/// the model's own fused inference path under <see cref="Autograd.NoGrad"/> when the model is one flat Sequential
/// (Freeze flattens nested ones and folds across their boundaries, which the model's own path does not).</remarks>
public sealed class FrozenSequential : Module
{
    private readonly object[] _steps;   // FrozenLinear, FrozenConv2d or a parameter-free Module
    private readonly bool[] _needsMatrix;   // the step folded a BatchNorm1d, which normalises (N, C) input only

    internal FrozenSequential(IReadOnlyList<object> steps, IReadOnlyList<bool> needsMatrix)
    {
        _steps = [.. steps];
        _needsMatrix = [.. needsMatrix];
    }

    /// <summary>The steps: <see cref="FrozenLinear"/> for each folded Dense [→ BatchNorm1d] [→ activation],
    /// <see cref="FrozenConv2d"/> for each Conv2d [→ BatchNorm2d] [→ activation], and the parameter-free modules.</summary>
    public IReadOnlyList<object> Steps => _steps;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A step's input has the wrong shape.</exception>
    /// <exception cref="InvalidOperationException">Gradient recording is on and x requires grad.</exception>
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        for (int i = 0; i < _steps.Length; i++)
        {
            if (_steps[i] is FrozenLinear linear && _needsMatrix[i] && x.Rank != 2)
                throw new ArgumentException(
                    $"FrozenSequential: step {i} ({linear}) folds a BatchNorm1d, which needs (N, {linear.InFeatures}) input here, got {Shapes.Format(x.Shape)}.",
                    nameof(x));
            try
            {
                x = _steps[i] switch
                {
                    FrozenLinear l => l.Forward(x),
                    FrozenConv2d c => c.Forward(x),
                    _ => ((Module)_steps[i]).Forward(x),
                };
            }
            catch (ArgumentException e) when (e.GetType() == typeof(ArgumentException))
            {
                // A shape error from inside a step: say which step (steps count after folding, see Steps).
                throw new ArgumentException($"FrozenSequential: step {i} ({_steps[i]}): {e.Message}", nameof(x), e);
            }
        }
        return x;
    }

    /// <inheritdoc/>
    public override string ToString() => $"FrozenSequential({string.Join(", ", _steps)})";
}
