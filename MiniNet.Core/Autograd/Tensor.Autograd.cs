namespace MiniNet;

// The autograd side of a tensor: where it came from (its node), whether gradients flow to it, its gradient, and the
// entry points of a backward pass. The gradient buffer's states live in GradientState; the walk in Engine.
public partial class Tensor
{
    private bool _requiresGrad;

    /// <summary>This tensor's gradient buffer and its state in a backward pass (see <see cref="GradientState"/>). A field,
    /// so that the engine and <see cref="Autograd.GradTarget"/> change it in place.</summary>
    internal GradientState Gradient;

    /// <summary>The op that produced this tensor, or null for a leaf.</summary>
    public Node? Node { get; internal set; }

    /// <summary>True for a tensor created by the user rather than by a recorded op.</summary>
    public bool IsLeaf => Node is null;

    /// <summary>Whether gradients flow to this tensor. Settable on leaves only, as in PyTorch.</summary>
    /// <exception cref="InvalidOperationException">Set on a tensor produced by an op.</exception>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (Node is not null)
                throw new InvalidOperationException(
                    $"RequiresGrad can only be changed on leaf tensors; this tensor was produced by '{Node.Name}'. Use Detach() first.");
            _requiresGrad = value;
        }
    }

    internal void MarkRequiresGrad() => _requiresGrad = true;

    /// <summary>Gradient of the last <see cref="Backward(bool)"/> root with respect to this tensor (leaves only), or null.</summary>
    /// <remarks>An op's backward function obtains the gradient it writes through <see cref="Autograd.GradTarget"/>;
    /// reading <c>Grad</c> there also works (it reads as zeros until something is added), but cannot skip clearing.</remarks>
    public Tensor? Grad
    {
        get => Gradient.Get(this);
        set => Gradient.Set(value);
    }

    /// <summary>Clears the gradient in place, keeping its buffer (what optimizers' and modules' <c>ZeroGrad</c> do for
    /// each parameter).</summary>
    /// <param name="setToNone">Drop the gradient instead, as PyTorch's <c>zero_grad(set_to_none=True)</c>:
    /// <see cref="Grad"/> becomes null until the next backward pass. The buffer is kept and reused by that pass, which
    /// writes the new gradient into it without clearing it first (so training allocates nothing and saves a memory
    /// pass). Do not hold on to the old <see cref="Grad"/> tensor across such a call: its contents change.</param>
    public void ZeroGrad(bool setToNone = false) => Gradient.Zero(this, setToNone);

    /// <summary>Calls <paramref name="hook"/>(this) during each <see cref="Backward(bool)"/> as soon as this leaf's
    /// gradient for that pass is complete: after the last op that contributes to it has run, while the rest of the
    /// backward pass goes on (PyTorch's <c>register_post_accumulate_grad_hook</c>). Data-parallel training starts
    /// averaging a gradient across processes from here.</summary>
    /// <remarks>Runs on the thread that runs the backward pass, with gradient recording off. A leaf the pass does not
    /// reach gets no call. Hooks run in registration order.</remarks>
    /// <returns>A handle; disposing it removes the hook.</returns>
    /// <exception cref="InvalidOperationException">This tensor is not a leaf.</exception>
    public IDisposable RegisterPostAccumulateGradHook(Action<Tensor> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        if (!IsLeaf)
            throw new InvalidOperationException(
                $"RegisterPostAccumulateGradHook: this tensor was produced by '{Node!.Name}'; only leaves accumulate gradients.");
        return Gradient.AddHook(hook);
    }

    /// <summary>Back-propagates from this one-element tensor (dL/dL = 1) into every leaf that requires grad.</summary>
    /// <exception cref="InvalidOperationException">The tensor has more than one element, does not require grad, or its graph was freed.</exception>
    public void Backward(bool retainGraph = false)
    {
        if (Numel != 1)
            throw new InvalidOperationException(
                $"Backward: tensor of shape {Shapes.Format(_shape)} has {Numel} elements; pass a gradient of the same shape or reduce it first (e.g. Sum()).");
        Engine.Backward(this, Ones(_shape), retainGraph);
    }

    /// <summary>Back-propagates <paramref name="gradient"/> (dL/dthis, same shape as this tensor).</summary>
    /// <exception cref="ArgumentException">The gradient's shape differs from this tensor's.</exception>
    public void Backward(Tensor gradient, bool retainGraph = false)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        if (!Shapes.Equal(gradient._shape, _shape))
            throw new ArgumentException(
                $"Backward: gradient of shape {Shapes.Format(gradient._shape)} does not match tensor of shape {Shapes.Format(_shape)}.",
                nameof(gradient));
        Engine.Backward(this, gradient, retainGraph);
    }

    /// <summary>A leaf sharing this tensor's storage, cut from the graph (no gradient flows through it).</summary>
    public Tensor Detach() => View(this, _shape);
}
