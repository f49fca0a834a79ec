using System.Reflection;

namespace MiniNet.Layers;

/// <summary>The result of <see cref="Module.LoadStateDict"/>: keys the model has that the state lacked, and keys the state had that the model lacks.</summary>
public sealed record LoadResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys)
{
    /// <summary>True when the keys matched exactly.</summary>
    public bool IsExactMatch => MissingKeys.Count == 0 && UnexpectedKeys.Count == 0;

    /// <summary>The keys in words, e.g. <c>LoadResult: all keys matched</c> or <c>LoadResult: 1 missing key (3.weight), no
    /// unexpected keys</c>.</summary>
    public override string ToString()
    {
        if (IsExactMatch) return "LoadResult: all keys matched";
        static string Keys(IReadOnlyList<string> keys, string kind) => keys.Count == 0
            ? $"no {kind} keys"
            : $"{keys.Count} {kind} key{(keys.Count == 1 ? "" : "s")} ({string.Join(", ", keys)})";
        return $"LoadResult: {Keys(MissingKeys, "missing")}, {Keys(UnexpectedKeys, "unexpected")}";
    }
}

/// <summary>Marks a field of a module that holds a module or parameter deliberately outside it: not trained, saved or
/// switched between training and evaluation with it (a teacher model, say). Without it, such a field is an error the
/// first time the module's parameters, buffers, modules or state are listed (<see cref="Module.Parameters"/>,
/// <see cref="Module.StateDict"/>, <see cref="Module.Train"/>, …): a child assigned to a field but never registered
/// would otherwise be left out silently.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class NotRegisteredAttribute : Attribute;

/// <summary>Base class of every layer and model: holds named parameters, buffers and child modules, registered
/// explicitly in constructors, and a <see cref="Forward"/> built from ops (so no backward code is needed).</summary>
/// <remarks>Names follow PyTorch: a state dict's keys are dotted paths such as <c>0.weight</c> or <c>1.running_mean</c>,
/// listing each module's parameters, then its buffers, then its children's entries, in registration order.
/// <para>Threads: inference may run on several threads at once (evaluation mode: the module path, the fused path under
/// <see cref="Autograd.NoGrad"/>, a <see cref="FrozenSequential"/>), each call bitwise equal to the same call on one
/// thread. Training a model is single-threaded: its forward pass changes state (BatchNorm's running statistics), and a
/// BatchNorm refuses a training-mode pass while another thread's is inside it.</para></remarks>
public abstract class Module
{
    // Not readonly: Clone gives each copy lists of its own.
    private List<(string Name, Parameter Value)> _parameters = [];
    private List<(string Name, Tensor Value)> _buffers = [];
    private List<(string Name, Module Value)> _children = [];

    private List<Action<Module, Tensor, Tensor>>? _forwardHooks;

    /// <summary>Computes the module's output. Layers validate the input's shape first.</summary>
    /// <remarks>Calling <c>Forward</c> directly skips forward hooks; <see cref="Call"/> runs them (as <see cref="Sequential"/> does).</remarks>
    public abstract Tensor Forward(Tensor x);

    /// <summary>Runs <see cref="Forward"/>, then every forward hook with (module, input, output) — like calling a PyTorch module.</summary>
    public Tensor Call(Tensor x)
    {
        Tensor y = Forward(x);
        if (_forwardHooks is { Count: > 0 })
            foreach (var hook in _forwardHooks.ToArray()) hook(this, x, y);
        return y;
    }

    /// <summary>True when a forward hook is registered (then <see cref="Sequential"/> runs this module on its own, unfused).</summary>
    internal bool HasForwardHooks => _forwardHooks is { Count: > 0 };

    /// <summary>Registers <paramref name="hook"/>(module, input, output), run after each <see cref="Call"/>.</summary>
    /// <returns>A handle; disposing it removes the hook.</returns>
    public IDisposable RegisterForwardHook(Action<Module, Tensor, Tensor> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        (_forwardHooks ??= []).Add(hook);
        return new Registration(() => _forwardHooks.Remove(hook));
    }

    /// <summary>True in training mode (the default); BatchNorm and Dropout behave differently in evaluation mode.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Sets training mode on this module and every descendant.</summary>
    /// <returns>This module.</returns>
    /// <exception cref="InvalidOperationException">A field holds a module or parameter that is not registered (see <see cref="NotRegisteredAttribute"/>).</exception>
    public Module Train(bool mode = true)
    {
        CheckRegistered();
        SetTraining(mode);
        return this;
    }

    private void SetTraining(bool mode)
    {
        Training = mode;
        foreach (var (_, child) in _children) child.SetTraining(mode);
    }

    /// <summary>Sets evaluation mode recursively. Same as <c>Train(false)</c>.</summary>
    public Module Eval() => Train(false);

    /// <summary>Registers a trainable parameter under <paramref name="name"/>, wrapping <paramref name="initial"/>'s storage.</summary>
    /// <returns>The parameter, to keep in a field or property (<c>Weight = RegisterParameter("weight", …)</c>).</returns>
    protected Parameter RegisterParameter(string name, Tensor initial)
    {
        CheckName(name);
        _fieldsChecked = false;
        var parameter = initial as Parameter ?? new Parameter(initial);
        _parameters.Add((name, parameter));
        return parameter;
    }

    /// <summary>Registers a non-trainable state tensor (such as <c>running_mean</c>): saved in the state dict, not in <see cref="Parameters"/>.</summary>
    /// <returns>The buffer, to keep in a field or property.</returns>
    protected Tensor RegisterBuffer(string name, Tensor value)
    {
        CheckName(name);
        _fieldsChecked = false;
        ArgumentNullException.ThrowIfNull(value);
        _buffers.Add((name, value));
        return value;
    }

    /// <summary>Registers a child module under <paramref name="name"/>.</summary>
    /// <returns>The module, to keep in a field or property (<c>_fc1 = RegisterModule("fc1", new Dense(…))</c>).</returns>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        _fieldsChecked = false;
        ArgumentNullException.ThrowIfNull(module);
        _children.Add((name, module));
        return module;
    }

    /// <summary>Every trainable parameter, recursively, in registration order.</summary>
    public IEnumerable<Parameter> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Every trainable parameter with its dotted name.</summary>
    /// <exception cref="InvalidOperationException">A field holds a module or parameter that is not registered (see <see cref="NotRegisteredAttribute"/>).</exception>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "")
    {
        CheckRegistered();
        return NamedParametersOf(prefix);
    }

    private IEnumerable<(string Name, Parameter Parameter)> NamedParametersOf(string prefix)
    {
        foreach (var (name, p) in _parameters) yield return (prefix + name, p);
        foreach (var (name, child) in _children)
            foreach (var item in child.NamedParametersOf(prefix + name + ".")) yield return item;
    }

    /// <summary>Every buffer, recursively, in registration order.</summary>
    public IEnumerable<Tensor> Buffers() => NamedBuffers().Select(b => b.Buffer);

    /// <summary>Every buffer with its dotted name.</summary>
    /// <exception cref="InvalidOperationException">A field holds a module or parameter that is not registered.</exception>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(string prefix = "")
    {
        CheckRegistered();
        return NamedBuffersOf(prefix);
    }

    private IEnumerable<(string Name, Tensor Buffer)> NamedBuffersOf(string prefix)
    {
        foreach (var (name, b) in _buffers) yield return (prefix + name, b);
        foreach (var (name, child) in _children)
            foreach (var item in child.NamedBuffersOf(prefix + name + ".")) yield return item;
    }

    /// <summary>The direct children, in registration order.</summary>
    public IEnumerable<Module> Children() => _children.Select(c => c.Value);

    /// <summary>The direct children with their names.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => _children.Select(c => (c.Name, c.Value));

    /// <summary>This module (named "") and all its descendants with their dotted names, depth first.</summary>
    /// <exception cref="InvalidOperationException">A field holds a module or parameter that is not registered.</exception>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        CheckRegistered();
        return NamedModulesOf(prefix);
    }

    private IEnumerable<(string Name, Module Module)> NamedModulesOf(string prefix)
    {
        yield return (prefix.TrimEnd('.'), this);
        foreach (var (name, child) in _children)
            foreach (var item in child.NamedModulesOf(prefix + name + ".")) yield return item;
    }

    /// <summary>This module and all its descendants, depth first (pre-order).</summary>
    /// <exception cref="InvalidOperationException">A field holds a module or parameter that is not registered.</exception>
    public IEnumerable<Module> Modules()
    {
        CheckRegistered();
        return Tree();
    }

    /// <summary>This module and its registered descendants, depth first, without the registration check.</summary>
    private IEnumerable<Module> Tree()
    {
        yield return this;
        foreach (var (_, child) in _children)
            foreach (Module m in child.Tree()) yield return m;
    }

    // ---- The registration check -------------------------------------------------------------

    [NotCopied] private bool _fieldsChecked;

    /// <summary>Throws, naming the field, when a field of a module in this tree holds a module or parameter that is not
    /// registered anywhere in the tree (see <see cref="NotRegisteredAttribute"/>). Each module is checked once (again
    /// after it registers something new).</summary>
    private void CheckRegistered()
    {
        if (_fieldsChecked) return;
        var registered = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (Module m in Tree())
        {
            registered.Add(m);
            foreach (var (_, p) in m._parameters) registered.Add(p);
        }
        var checkedNow = new List<Module>();
        foreach (Module m in Tree())
        {
            if (m._fieldsChecked) continue;
            m.CheckFields(registered);
            checkedNow.Add(m);
        }
        foreach (Module m in checkedNow) m._fieldsChecked = true;   // only once the whole tree passed
    }

    private void CheckFields(HashSet<object> registered)
    {
        const BindingFlags Declared = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        for (Type? type = GetType(); type is not null && type != typeof(Module); type = type.BaseType)
            foreach (FieldInfo field in type.GetFields(Declared))
            {
                if (field.IsDefined(typeof(NotRegisteredAttribute)) || field.IsDefined(typeof(NotCopiedAttribute))) continue;
                string name = FieldName(field);
                if (type.GetProperty(name, Declared)?.IsDefined(typeof(NotRegisteredAttribute)) == true) continue;
                foreach (object item in Holdings(field.GetValue(this)))
                    if (!registered.Contains(item))
                        throw new InvalidOperationException(
                            $"{GetType().Name}: field '{name}' holds a {item.GetType().Name} that is not registered, so it would not be " +
                            $"trained, saved or switched by Train/Eval with this module. Register it in the constructor " +
                            $"({(item is Module ? "RegisterModule" : "RegisterParameter")}(\"{name.TrimStart('_')}\", …)), or mark the field " +
                            "[NotRegistered] if it is deliberately outside this module.");
            }

        // The modules and parameters a field holds: itself, or the elements of an array or list of them.
        static IEnumerable<object> Holdings(object? value)
        {
            if (value is Module or Parameter)
            {
                yield return value;
                yield break;
            }
            Type? element = value switch
            {
                Array { Rank: 1 } array => array.GetType().GetElementType(),
                System.Collections.IList list when list.GetType().IsGenericType => list.GetType().GetGenericArguments()[0],
                _ => null,
            };
            if (element is null || element.IsValueType) yield break;   // arrays of numbers hold no modules
            foreach (object? item in (System.Collections.IList)value!)
                if (item is Module or Parameter) yield return item;
        }

        // "<Weight>k__BackingField" → "Weight".
        static string FieldName(FieldInfo field) =>
            field.Name.StartsWith('<') && field.Name.IndexOf('>') is > 1 and var end ? field.Name[1..end] : field.Name;
    }

    /// <summary>Clears every parameter's gradient in place (keeping the buffers, so training allocates no new ones).</summary>
    /// <param name="setToNone">Drop the gradients instead (<see cref="Tensor.ZeroGrad"/>, PyTorch's
    /// <c>set_to_none=True</c>): the next backward pass writes into the kept buffers without clearing them first.</param>
    public void ZeroGrad(bool setToNone = false)
    {
        foreach (Parameter p in Parameters()) p.ZeroGrad(setToNone);
    }

    /// <summary>A table of this model for one input batch of <paramref name="inputShape"/>, as torchinfo's
    /// <c>summary</c> prints: each module with its output shape and its parameter and trainable counts, the totals, and
    /// the memory of parameters, buffers and one batch's activations. It runs one forward pass in evaluation mode,
    /// under <see cref="Autograd.NoGrad"/>, on zeros; the model's mode, running statistics, <c>num_batches_tracked</c>
    /// and every other buffer are as they were afterwards.</summary>
    /// <param name="inputShape">The input's shape, batch first, e.g. (1, 784) or (64, 1, 28, 28).</param>
    /// <exception cref="ArgumentException">An empty or negative shape, or one the model refuses.</exception>
    public ModelSummary Summary(params int[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length == 0)
            throw new ArgumentException("Summary: give the input's shape, batch first, e.g. Summary(1, 784).", nameof(inputShape));
        Shapes.Validate(inputShape, "Summary");
        CheckRegistered();
        return ModelSummary.Of(this, inputShape);
    }

    /// <summary>Parameters and buffers by dotted name, in PyTorch's order. The tensors are the live ones, not copies.</summary>
    /// <exception cref="InvalidOperationException">A field holds a module or parameter that is not registered.</exception>
    public OrderedDictionary<string, Tensor> StateDict()
    {
        CheckRegistered();
        var state = new OrderedDictionary<string, Tensor>();
        AddState(state, "");
        return state;
    }

    private void AddState(OrderedDictionary<string, Tensor> state, string prefix)
    {
        foreach (var (name, p) in _parameters) state.Add(prefix + name, p);
        foreach (var (name, b) in _buffers) state.Add(prefix + name, b);
        foreach (var (name, child) in _children) child.AddState(state, prefix + name + ".");
    }

    /// <summary>Copies values from <paramref name="state"/> into the parameters and buffers with the same names.</summary>
    /// <remarks>Everything is validated before anything is copied, so a failed load leaves the module unchanged.</remarks>
    /// <param name="strict">Require the keys to match exactly (no missing, no unexpected keys).</param>
    /// <returns>The missing and unexpected keys (both empty when strict succeeds).</returns>
    /// <remarks>A value of another type converts as <see cref="StateDicts.CheckLoad"/> allows.</remarks>
    /// <exception cref="ArgumentException">A shape differs, a value does not convert, or (strict) keys are missing or
    /// unexpected; the message lists them.</exception>
    public LoadResult LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state);
        OrderedDictionary<string, Tensor> own = StateDict();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var problems = new List<string>();
        foreach (var (key, target) in own)
        {
            if (state.TryGetValue(key, out Tensor? source) && StateDicts.CheckLoad(key, source, target) is { } problem)
                problems.Add(problem);
        }
        if (strict && missing.Count > 0) problems.Add("missing keys: " + string.Join(", ", missing));
        if (strict && unexpected.Count > 0) problems.Add("unexpected keys: " + string.Join(", ", unexpected));
        if (problems.Count > 0)
            throw new ArgumentException($"LoadStateDict into {GetType().Name}: " + string.Join("; ", problems) + ". Nothing was loaded.", nameof(state));
        foreach (var (key, target) in own)
            if (state.TryGetValue(key, out Tensor? source)) target.CopyFrom(source);   // converts an older F32 counter to int64
        return new LoadResult(missing, unexpected);
    }

    /// <summary>A deep copy of this module and its descendants (PyTorch's <c>copy.deepcopy(module)</c>): parameters,
    /// buffers and child modules are copied, so training one does not reach the other; for weight averaging (EMA),
    /// replicas and snapshots (<see cref="Sequential.Freeze"/> carries what it cannot fold this way).</summary>
    /// <remarks>
    /// <para>Every field of the module's classes that refers to one of its parameters, buffers or children (as layers
    /// keep them: <c>Weight</c>, <c>_fc1</c>) refers to the copy's, and so do one-dimensional arrays and lists of them;
    /// other tensors and modules a field holds are copied too (each once, so what the original shares the copy shares),
    /// and arrays are copied. Everything else (numbers, strings, random generators, loggers, delegates, other
    /// collections, structs) is shared with the original, and a tensor that is a view of another is copied as a tensor
    /// of its own. The copy keeps the training mode and each parameter's <see cref="Tensor.RequiresGrad"/>, but no
    /// gradients, forward hooks or statistics observers.</para>
    /// </remarks>
    public Module Clone()
    {
        var copies = new Dictionary<object, object>(ReferenceEqualityComparer.Instance);
        var unredirected = new Queue<Module>();
        Module copy = CopyTree(copies, unredirected);
        // Redirecting a copy's fields can copy more modules (ones held in fields but not registered): until none is left.
        while (unredirected.TryDequeue(out Module? module)) module.RedirectFields(copies, unredirected);
        return copy;
    }

    /// <summary>Copies this module, its registered tensors and its children (each once, however often it is shared),
    /// recording every original → copy in <paramref name="copies"/> and queueing each module copy for
    /// <see cref="RedirectFields"/>.</summary>
    private Module CopyTree(Dictionary<object, object> copies, Queue<Module> unredirected)
    {
        if (copies.TryGetValue(this, out object? done)) return (Module)done;
        var copy = (Module)MemberwiseClone();
        copies.Add(this, copy);
        unredirected.Enqueue(copy);
        copy._forwardHooks = null;
        copy._parameters = _parameters.Select(p => (p.Name, (Parameter)CopyTensor(p.Value, copies))).ToList();
        copy._buffers = _buffers.Select(b => (b.Name, CopyTensor(b.Value, copies))).ToList();
        copy._children = _children.Select(c => (c.Name, c.Value.CopyTree(copies, unredirected))).ToList();
        return copy;
    }

    private static Tensor CopyTensor(Tensor tensor, Dictionary<object, object> copies)
    {
        if (copies.TryGetValue(tensor, out object? done)) return (Tensor)done;
        Tensor copy = tensor is Parameter p ? new Parameter(p.Clone()) { RequiresGrad = p.RequiresGrad } : tensor.Clone();
        if (tensor is not Parameter && tensor.IsLeaf) copy.RequiresGrad = tensor.RequiresGrad;
        copies.Add(tensor, copy);
        return copy;
    }

    /// <summary>Points this copy's own fields (those its classes below <see cref="Module"/> declare) at the copies.</summary>
    private void RedirectFields(Dictionary<object, object> copies, Queue<Module> unredirected)
    {
        const BindingFlags Declared = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        for (Type? type = GetType(); type is not null && type != typeof(Module); type = type.BaseType)
            foreach (FieldInfo field in type.GetFields(Declared))
            {
                object? value = field.GetValue(this);
                object? copy = field.IsDefined(typeof(NotCopiedAttribute)) ? null : CopyOf(value, copies, unredirected);
                if (!ReferenceEquals(copy, value)) field.SetValue(this, copy);
            }
    }

    /// <summary>What a copied module's field holds in place of <paramref name="value"/> (see <see cref="Clone"/>).</summary>
    private static object? CopyOf(object? value, Dictionary<object, object> copies, Queue<Module> unredirected)
    {
        switch (value)
        {
            case null:
                return null;
            case Tensor tensor:
                return CopyTensor(tensor, copies);
            case Module module:
                return module.CopyTree(copies, unredirected);
            case Array array:
            {
                var copy = (Array)array.Clone();
                if (array.Rank == 1 && !array.GetType().GetElementType()!.IsValueType)
                    for (int i = 0; i < copy.Length; i++) copy.SetValue(CopyOf(copy.GetValue(i), copies, unredirected), i);
                return copy;
            }
            case System.Collections.IList list when list.GetType().IsGenericType
                && list.GetType().GetGenericTypeDefinition() == typeof(List<>)
                && (typeof(Tensor).IsAssignableFrom(list.GetType().GetGenericArguments()[0])
                    || typeof(Module).IsAssignableFrom(list.GetType().GetGenericArguments()[0])):
            {
                var copy = (System.Collections.IList)Activator.CreateInstance(list.GetType(), list.Count)!;
                foreach (object? item in list) copy.Add(CopyOf(item, copies, unredirected));
                return copy;
            }
            default:
                return value;
        }
    }

    /// <summary>Saves the state dict to a safetensors file, atomically (a crash mid-save leaves an existing file intact).</summary>
    public void Save(string path) => Safetensors.Save(StateDict(), path);

    /// <summary>Loads a safetensors checkpoint into this module; the file and every key and shape are validated first.</summary>
    /// <exception cref="InvalidDataException">The file is not valid safetensors.</exception>
    /// <exception cref="ArgumentException">The checkpoint does not fit the module (see <see cref="LoadStateDict"/>).</exception>
    public LoadResult Load(string path, bool strict = true)
    {
        OrderedDictionary<string, Tensor> state = Safetensors.Load(path);
        try
        {
            return LoadStateDict(state, strict);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{path}: {e.Message}", nameof(path), e);
        }
    }

    /// <summary>The module's class name and, recursively, its children.</summary>
    public override string ToString()
    {
        if (_children.Count == 0) return Describe();
        var lines = new List<string> { Describe() + "(" };
        foreach (var (name, child) in _children)
            lines.Add("  (" + name + "): " + child.ToString().Replace("\n", "\n  "));
        lines.Add(")");
        return string.Join("\n", lines);
    }

    /// <summary>A one-line description, e.g. <c>Dense(784, 100, bias: False)</c>; layers override it.</summary>
    protected virtual string Describe() => GetType().Name;

    private void CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('.')) throw new ArgumentException($"{GetType().Name}: registered name '{name}' must not contain '.'.", nameof(name));
        if (_parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name) || _children.Any(c => c.Name == name))
            throw new ArgumentException($"{GetType().Name}: the name '{name}' is already registered.", nameof(name));
    }
}
