namespace MiniNet.Optim;

/// <summary>Base of the optimizers: parameter groups, <see cref="Step"/>, <see cref="ZeroGrad"/> and state that can be saved.</summary>
/// <remarks>Per-parameter state (momentum buffers, moment estimates) is allocated once, in the constructor, so a step
/// allocates nothing. <see cref="StateDict"/> exposes it as named tensors (safetensors-friendly), for exact resumption.</remarks>
public abstract class Optimizer
{
    private readonly List<ParamGroup> _groups;
    private readonly Dictionary<string, Tensor> _state = [];

    /// <summary>One group holding <paramref name="parameters"/>, at learning rate <paramref name="lr"/>.</summary>
    protected Optimizer(IEnumerable<Tensor> parameters, float lr) : this([new ParamGroup(parameters)], lr) { }

    /// <summary>Several groups; a group without its own learning rate takes <paramref name="lr"/>.</summary>
    /// <exception cref="ArgumentException">No parameters, a parameter in two groups, or a non-positive learning rate.</exception>
    protected Optimizer(IEnumerable<ParamGroup> groups, float lr)
    {
        ArgumentNullException.ThrowIfNull(groups);
        CheckLr(lr, nameof(lr));
        _groups = groups.ToList();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        int index = 0;
        foreach (ParamGroup g in _groups)
        {
            if (float.IsNaN(g.Lr)) g.Lr = lr;
            CheckLr(g.Lr, "lr");
            g.InitialLr = g.Lr;
            foreach (Tensor p in g.Parameters)
            {
                if (!seen.Add(p)) throw new ArgumentException($"{GetType().Name}: parameter {index} appears in more than one group.", nameof(groups));
                index++;
            }
        }
        if (index == 0) throw new ArgumentException($"{GetType().Name}: got an empty parameter list.", nameof(groups));
        ParameterCount = index;
    }

    /// <summary>The parameter groups, in order.</summary>
    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>The number of parameters over all groups.</summary>
    protected int ParameterCount { get; }

    /// <summary>Updates every parameter that has a gradient, in place, without recording a graph.</summary>
    /// <exception cref="InvalidOperationException">A gradient's size differs from its parameter's.</exception>
    public void Step()
    {
        using (Autograd.NoGrad())
        {
            int index = 0;
            foreach (ParamGroup g in _groups)
            {
                // NOTE: indexed loop: foreach over the IReadOnlyList would allocate an enumerator every step.
                for (int i = 0; i < g.Parameters.Count; i++, index++)
                {
                    Tensor p = g.Parameters[i];
                    if (p.Grad is not { } grad) continue;
                    if (grad.Numel != p.Numel)
                        throw new InvalidOperationException(
                            $"{GetType().Name}.Step: parameter {index} of shape {Shapes.Format(p.Shape)} has a gradient of shape {Shapes.Format(grad.Shape)}.");
                    Update(index, p, grad, g.Lr);
                }
            }
            AfterStep();
        }
    }

    /// <summary>Applies the rule to parameter number <paramref name="index"/> (counted over all groups).</summary>
    protected abstract void Update(int index, Tensor parameter, Tensor grad, float lr);

    /// <summary>Called once after every parameter has been updated (step counters).</summary>
    protected virtual void AfterStep() { }

    /// <summary>Clears every parameter's gradient in place (the buffers stay, so training allocates none).</summary>
    /// <param name="setToNone">Drop the gradients instead (<see cref="Tensor.ZeroGrad"/>, PyTorch's
    /// <c>set_to_none=True</c>): the next backward pass writes into the kept buffers without clearing them first, and a
    /// parameter it does not reach keeps a null gradient, which <see cref="Step"/> skips.</param>
    public void ZeroGrad(bool setToNone = false)
    {
        foreach (ParamGroup g in _groups)
            foreach (Tensor p in g.Parameters) p.ZeroGrad(setToNone);
    }

    /// <summary>Registers a named state tensor (e.g. <c>state.3.momentum_buffer</c>) included in <see cref="StateDict"/>.</summary>
    protected Tensor RegisterState(string name, Tensor value)
    {
        _state.Add(name, value);
        return value;
    }

    /// <summary>The optimizer's state as named tensors: per-parameter buffers, step counts, and each group's learning rate.</summary>
    /// <remarks>The tensors for buffers are the live ones; save them (e.g. with <see cref="Safetensors.Save"/>) to resume exactly.</remarks>
    public OrderedDictionary<string, Tensor> StateDict()
    {
        var state = new OrderedDictionary<string, Tensor>();
        foreach (var (name, t) in _state) state.Add(name, t);
        for (int i = 0; i < _groups.Count; i++)
        {
            state.Add($"param_groups.{i}.lr", Tensor.Scalar(_groups[i].Lr));
            state.Add($"param_groups.{i}.initial_lr", Tensor.Scalar(_groups[i].InitialLr));
        }
        return state;
    }

    /// <summary>Restores state saved by <see cref="StateDict"/> from an optimizer of the same kind over parameters of the same shapes.</summary>
    /// <remarks>Everything is validated before anything changes.</remarks>
    /// <exception cref="ArgumentException">A key is missing or unexpected, or a shape differs; the message lists them.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        OrderedDictionary<string, Tensor> own = StateDict();
        var problems = new List<string>();
        foreach (var (key, target) in own)
        {
            if (!state.TryGetValue(key, out Tensor? source)) problems.Add($"missing '{key}'");
            else if (StateDicts.CheckLoad(key, source, target) is { } problem) problems.Add(problem);
        }
        foreach (string key in state.Keys)
            if (!own.ContainsKey(key)) problems.Add($"unexpected '{key}'");
        foreach (var (key, _) in own)
            if (key.StartsWith("param_groups.", StringComparison.Ordinal) && state.TryGetValue(key, out Tensor? rate) && rate.Numel == 1
                && !(rate.Item() > 0f && float.IsFinite(rate.Item())))
                problems.Add($"'{key}' is {rate.Item().ToString(System.Globalization.CultureInfo.InvariantCulture)}, not a finite positive learning rate");
        if (problems.Count > 0 && SavedBy(state.Keys, own.Keys) is { } other)
            throw new ArgumentException(
                $"{GetType().Name}.LoadStateDict: the state was saved by {other}, not by this {GetType().Name}; load it into the kind of " +
                "optimizer that saved it, over the same parameters. Nothing was loaded.", nameof(state));
        if (problems.Count > 0)
            throw new ArgumentException($"{GetType().Name}.LoadStateDict: " + string.Join("; ", problems) + ". Nothing was loaded.", nameof(state));
        foreach (var (key, target) in _state) target.CopyFrom(state[key]);
        for (int i = 0; i < _groups.Count; i++)
        {
            _groups[i].Lr = state[$"param_groups.{i}.lr"].Item();
            _groups[i].InitialLr = state[$"param_groups.{i}.initial_lr"].Item();
        }
    }

    /// <summary>Saves <see cref="StateDict"/> to a safetensors file (written to a temporary file and renamed over
    /// <paramref name="path"/>, as <c>Module.Save</c> does), with the optimizer's type in the file's metadata.</summary>
    public void Save(string path) =>
        Safetensors.Save(StateDict(), path, new Dictionary<string, string> { ["optimizer"] = GetType().Name });

    /// <summary>Restores the state saved by <see cref="Save"/>, validated as by <see cref="LoadStateDict"/>: on any
    /// problem nothing changes.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file; the message names it.</exception>
    /// <exception cref="ArgumentException">The state does not fit this optimizer; the message says how.</exception>
    public void Load(string path) => LoadStateDict(Safetensors.Load(path));

    /// <summary>The per-parameter state each optimizer writes (<c>state.N.NAME</c>), for telling which kind saved a state.</summary>
    private static readonly (string Name, string Optimizer)[] StateNames =
    [
        // The most specific first: RMSprop with momentum also keeps a momentum_buffer.
        ("exp_avg", "Adam or AdamW"), ("square_avg", "RMSprop"), ("sum", "Adagrad"), ("momentum_buffer", "SGD with momentum"),
    ];

    /// <summary>The kind of optimizer whose per-parameter state names appear in <paramref name="keys"/> but not in this
    /// one's (<paramref name="own"/>), or null.</summary>
    private static string? SavedBy(IEnumerable<string> keys, IEnumerable<string> own)
    {
        static HashSet<string> Names(IEnumerable<string> k) =>
            k.Where(key => key.StartsWith("state.", StringComparison.Ordinal) && key.Count(c => c == '.') == 2)
                .Select(key => key[(key.LastIndexOf('.') + 1)..]).ToHashSet();
        HashSet<string> theirs = Names(keys), mine = Names(own);
        foreach (var (name, optimizer) in StateNames)
            if (theirs.Contains(name) && !mine.Contains(name)) return $"{optimizer} (its keys are state.N.{name})";
        return null;
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming <paramref name="name"/> unless <paramref name="value"/> is finite and ≥ 0.</summary>
    protected static void CheckNonNegative(float value, string name)
    {
        if (!(value >= 0f) || float.IsInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite value ≥ 0, got {value}.");
    }

    private static void CheckLr(float lr, string name)
    {
        if (!(lr > 0f) || float.IsInfinity(lr))
            throw new ArgumentOutOfRangeException(name, lr, $"{name} must be a finite value > 0, got {lr}.");
    }
}
