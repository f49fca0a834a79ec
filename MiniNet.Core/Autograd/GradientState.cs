namespace MiniNet;

/// <summary>A tensor's gradient buffer and what the engine knows about it during a backward pass.</summary>
/// <remarks>
/// <para>States: <b>none</b> (no gradient); <b>held</b> (a gradient a leaf keeps, so calls accumulate, as in PyTorch);
/// <b>pending</b> (the engine's gradient for this pass, not touched yet). A pending gradient comes into existence when
/// first touched, just before its producer's backward adds into it (so it is in cache): a read of
/// <see cref="Tensor.Grad"/> gives zeros, <see cref="Autograd.GradTarget"/> gives the buffer uninitialised and says
/// so, which lets an op write its gradient outright instead of clearing and adding.</para>
/// <para>A leaf's buffer dropped by <c>ZeroGrad(setToNone: true)</c> is kept as a <b>spare</b> and becomes the next
/// pass's pending gradient, so training allocates nothing. Non-leaf gradients come from the buffer pool and go back
/// as soon as their node has run (<see cref="Engine"/>).</para>
/// </remarks>
internal struct GradientState
{
    private Tensor? _grad;
    private Tensor? _spare;
    private bool _pending;
    private List<Action<Tensor>>? _hooks;

    /// <summary>True while the engine's gradient has not been touched yet (it would read as zeros).</summary>
    public readonly bool Pending => _pending;

    /// <summary>True when post-accumulate hooks are registered (<see cref="Tensor.RegisterPostAccumulateGradHook"/>).</summary>
    public readonly bool HasHooks => _hooks is { Count: > 0 };

    /// <summary>The gradient as <see cref="Tensor.Grad"/> reads it: a pending one becomes zeros first.</summary>
    public Tensor? Get(Tensor owner)
    {
        if (_pending)
        {
            _pending = false;
            if (_grad is null) _grad = Tensor.Scratch(owner.Dims, zeroed: true);
            else _grad.Values.Clear();
        }
        return _grad;
    }

    /// <summary>Replaces the gradient (null drops it and its spare).</summary>
    public void Set(Tensor? value)
    {
        _pending = false;
        _spare = null;
        _grad = value;
    }

    /// <summary><see cref="Tensor.ZeroGrad"/>: clears in place, or (setToNone) keeps the buffer as the spare.</summary>
    public void Zero(Tensor owner, bool setToNone)
    {
        if (!setToNone)
        {
            Get(owner)?.Values.Clear();
            return;
        }
        if (_pending && _grad is null) return;   // an engine gradient never touched: nothing to keep
        _spare = _grad ?? _spare;
        _grad = null;
        _pending = false;
    }

    /// <summary>Marks a non-leaf's gradient pending: it gets a pooled buffer on first touch.</summary>
    public void Defer()
    {
        _grad = null;
        _pending = true;
    }

    /// <summary>Makes sure a leaf has a gradient to accumulate into: its own, the spare (pending, so it is cleared or
    /// overwritten on first touch), or new zeros.</summary>
    public void PrepareLeaf(Tensor owner)
    {
        if (_grad is not null || _pending) return;
        if (_spare is not null)
        {
            (_grad, _spare, _pending) = (_spare, null, true);
            return;
        }
        _grad = Tensor.ZerosLike(owner);
    }

    /// <summary>The buffer a backward function writes into, and whether it already holds a sum to add to. A pending
    /// gradient is taken uninitialised (from the pool when it has no buffer yet): the caller must write every element.</summary>
    /// <exception cref="InvalidOperationException">The tensor has no gradient in this pass (called outside a backward function).</exception>
    public Tensor Acquire(Tensor owner, out bool accumulate)
    {
        if (_pending)
        {
            _pending = false;
            _grad ??= Tensor.Scratch(owner.Dims, zeroed: false);
            accumulate = false;
            return _grad;
        }
        accumulate = true;
        return _grad ?? throw new InvalidOperationException(
            $"Autograd.GradTarget: this tensor of shape {Shapes.Format(owner.Dims)} has no gradient in the current backward pass (call it from a backward function, for an input that requires grad).");
    }

    /// <summary>Adds a post-accumulate hook; the handle removes it.</summary>
    public IDisposable AddHook(Action<Tensor> hook)
    {
        List<Action<Tensor>> hooks = _hooks ??= [];
        hooks.Add(hook);
        return new HookHandle(hooks, hook);
    }

    /// <summary>Runs the post-accumulate hooks on <paramref name="owner"/>.</summary>
    public readonly void RunHooks(Tensor owner)
    {
        if (_hooks is null) return;
        foreach (Action<Tensor> hook in _hooks.ToArray()) hook(owner);
    }

    private sealed class HookHandle(List<Action<Tensor>> hooks, Action<Tensor> hook) : IDisposable
    {
        private List<Action<Tensor>>? _hooks = hooks;

        public void Dispose()
        {
            _hooks?.Remove(hook);
            _hooks = null;
        }
    }
}
