using System.Text.RegularExpressions;
using Google.Protobuf;

namespace MiniNet.Layers.Onnx;

/// <summary>A model read from an ONNX file (<see cref="Load(string)"/>): its layers are MiniNet modules (Conv2d, Dense,
/// BatchNorm with its running statistics, pooling, activations), so it can be evaluated, fine-tuned, saved and exported
/// again; the graph's other nodes (Add, Reshape and the shape arithmetic torch.onnx.export emits for
/// <c>view(N, -1)</c>) run between them.</summary>
/// <remarks>
/// <para>Read: opsets 13 to 17 of the default domain; Gemm, MatMul (with the Add of its bias), Conv, BatchNormalization,
/// Relu, Sigmoid, Tanh, LeakyRelu, Elu, Softmax, LogSoftmax, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape,
/// Shape, Gather, Unsqueeze, Concat, Constant, Add, Identity, Dropout and Pad with zero pads. A layer's parameters
/// take the state-dict path of its initializers (<c>features.0.weight</c> → module <c>features.0</c>), or a name from
/// its node (<c>conv3</c>) when the exporter gave them generated names.</para>
/// <para>Anything else is refused with a <see cref="NotSupportedException"/> naming the node, its op type and the
/// opset; a file that is not a well-formed ONNX model with an <see cref="InvalidDataException"/> naming the file.
/// Nothing is allocated beyond what the file's own tensors hold.</para>
/// </remarks>
public sealed class OnnxModel : Module, IOnnxExportable
{
    private readonly Step[] _steps;
    private readonly Module?[] _stepModules;
    private readonly string _input, _output;

    /// <summary>One node of the graph as it runs: a module, or an operation on values.</summary>
    private sealed record Step(string Kind, string[] Inputs, string Output, string? ModulePath = null, long[]? Ints = null, long Axis = 0);

    private OnnxModel(List<(Step Step, Module? Module)> steps, Dictionary<string, Tensor> constants, string input, string output, int opset)
    {
        _steps = [.. steps.Select(s => s.Step)];
        _stepModules = [.. steps.Select(s => s.Module)];
        _constants = constants;
        (_input, _output, Opset) = (input, output, opset);
    }

    [NotRegistered] private readonly Dictionary<string, Tensor> _constants;

    /// <summary>The opset of the default domain the file was written for.</summary>
    public int Opset { get; }

    /// <summary>The graph input's name.</summary>
    public string InputName => _input;

    /// <summary>Reads an ONNX model file.</summary>
    /// <exception cref="InvalidDataException">Not a regular file, or not a well-formed ONNX model (the message names the file).</exception>
    /// <exception cref="NotSupportedException">An operator, attribute or opset outside those listed (the message names the node).</exception>
    public static OnnxModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) throw new InvalidDataException($"{path}: a folder, not an ONNX file.");
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model: '{path}' does not exist.", path);
        return Load(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads an ONNX model from its bytes; <paramref name="source"/> names it in errors.</summary>
    public static OnnxModel Load(byte[] bytes, string source = "ONNX model")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        global::Onnx.ModelProto proto;
        try
        {
            proto = global::Onnx.ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{source}: not a well-formed ONNX model: {e.Message}", e);
        }
        return new Importer(proto, source).Build();
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        // Computed values by name; the constants are looked up beside them rather than copied in per call.
        var values = new Dictionary<string, Tensor>(_steps.Length + 1) { [_input] = x };
        for (int i = 0; i < _steps.Length; i++) values[_steps[i].Output] = Run(_steps[i], _stepModules[i], values, _constants);
        return values[_output];
    }

    private static Tensor Run(Step step, Module? module, Dictionary<string, Tensor> values, Dictionary<string, Tensor> constants)
    {
        Tensor Value(string name) => values.TryGetValue(name, out Tensor? value) ? value : constants[name];
        Tensor In(int i) => Value(step.Inputs[i]);
        switch (step.Kind)
        {
            case "Module": return module!.Call(In(0));
            case "Add": return In(0) + In(1);
            case "Shape": return Tensor.FromInt64Array([.. In(0).Shape.Select(d => (long)d)], In(0).Rank);
            case "Gather":
            {
                Tensor data = In(0), index = In(1);
                if (data.DType != DType.Int64 || data.Rank != 1)
                    throw new NotSupportedException($"ONNX model: Gather '{step.Output}' reads {data.DType} {Shapes.Format(data.Shape)}; only shape vectors are gathered.");
                long[] d = data.Int64Data.ToArray();
                long[] picked = [.. index.Int64Data.ToArray().Select(k => d[(int)(k < 0 ? k + d.Length : k)])];
                return Tensor.FromInt64Array(picked, [.. index.Shape]);
            }
            case "Unsqueeze":
            {
                Tensor data = In(0);
                int rank = data.Rank + step.Ints!.Length;
                var shape = new List<int>(data.Shape);
                foreach (long axis in step.Ints.Select(a => a < 0 ? a + rank : a).Order()) shape.Insert((int)axis, 1);
                return data.Reshape([.. shape]);
            }
            case "Concat":
            {
                Tensor[] parts = [.. step.Inputs.Select(Value)];
                if (parts.Any(t => t.DType != DType.Int64)) return MiniNet.Ops.Cat(parts, (int)step.Axis);
                return Tensor.FromInt64Array([.. parts.SelectMany(t => t.Int64Data.ToArray())], parts.Sum(t => t.Numel));
            }
            case "Reshape":
            {
                Tensor x = In(0);
                long[] target = In(1).Int64Data.ToArray();
                var shape = new int[target.Length];
                for (int i = 0; i < target.Length; i++) shape[i] = target[i] == 0 ? x.Shape[i] : (int)target[i];
                return x.Reshape(shape);
            }
            default: throw new InvalidOperationException($"ONNX model: unknown step '{step.Kind}'.");
        }
    }

    /// <inheritdoc/>
    public string ExportOnnx(OnnxGraphBuilder graph, string input)
    {
        // Values by the names they had in the file: modules export as themselves, the other steps as the nodes they came
        // from, each output's sample computed as Forward computes it.
        var names = new Dictionary<string, string> { [_input] = input };
        var samples = new Dictionary<string, Tensor> { [_input] = graph.SampleOf(input)! };
        string Name(string value)
        {
            if (names.TryGetValue(value, out string? known)) return known;
            return names[value] = graph.Constant(_constants[value]);
        }
        for (int i = 0; i < _steps.Length; i++)
        {
            Step step = _steps[i];
            string output;
            if (step.Kind == "Module") output = graph.Export(_stepModules[i]!, Path(graph, step.ModulePath!), Name(step.Inputs[0]));
            else
            {
                string[] inputs = [.. step.Inputs.Select(Name)];
                output = step.Kind switch
                {
                    "Gather" => graph.Node("Gather", inputs, ("axis", 0L)),
                    "Unsqueeze" => graph.Node("Unsqueeze", [inputs[0], graph.Constant(Tensor.FromInt64Array(step.Ints!, step.Ints!.Length))]),
                    "Concat" => graph.Node("Concat", inputs, ("axis", step.Axis)),
                    _ => graph.Node(step.Kind, inputs),
                };
            }
            Tensor sample;
            using (Autograd.NoGrad()) sample = Run(step, _stepModules[i], samples, _constants);
            samples[step.Output] = sample;
            graph.SetSample(output, sample);
            names[step.Output] = output;
        }
        return names[_output];
    }

    private static string Path(OnnxGraphBuilder graph, string path) => graph.Prefix.Length == 0 ? path : $"{graph.Prefix}.{path}";

    /// <summary>A container of imported layers that share a state-dict path prefix (<c>features</c> of
    /// <c>features.0.weight</c>); it holds modules and is never called.</summary>
    private sealed class Scope : Module
    {
        public T Add<T>(string name, T module) where T : Module => RegisterModule(name, module);

        public Module? Get(string name) => NamedChildren().FirstOrDefault(c => c.Name == name).Module;

        public override Tensor Forward(Tensor x) =>
            throw new NotSupportedException("An ONNX model's layer container is not a layer; call the OnnxModel.");
    }

    private sealed class Importer
    {
        private static readonly Regex ParameterName = new(@"^([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\.(weight|bias)$", RegexOptions.CultureInvariant);

        private readonly global::Onnx.ModelProto _proto;
        private readonly string _source;
        private readonly int _opset;
        private readonly Dictionary<string, Tensor> _constants = [];
        private readonly Dictionary<string, int> _ranks = [];   // runtime values: their rank
        private readonly Dictionary<string, string> _aliases = [];
        private readonly List<(Step, Module?)> _steps = [];
        private readonly List<(string Name, Module Module)> _registered = [];
        private readonly Dictionary<string, Scope> _scopes = [];
        private readonly HashSet<string> _paths = [];
        private global::Onnx.NodeProto _node = new();
        private int _index;

        public Importer(global::Onnx.ModelProto proto, string source)
        {
            (_proto, _source) = (proto, source);
            if (proto.Graph is null) throw new InvalidDataException($"{source}: the model has no graph.");
            var domain = proto.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").ToList();
            if (domain.Count != 1) throw new InvalidDataException($"{source}: the model imports the default opset {domain.Count} times (once expected).");
            if (domain[0].Version is < 13 or > 17)
                throw new NotSupportedException($"{source}: opset {domain[0].Version}; MiniNet reads opsets 13 to 17.");
            _opset = (int)domain[0].Version;
        }

        public OnnxModel Build()
        {
            global::Onnx.GraphProto graph = _proto.Graph;
            foreach (global::Onnx.TensorProto t in graph.Initializer) _constants[t.Name] = ReadTensor(t, $"initializer '{t.Name}'");
            var inputs = graph.Input.Where(i => !_constants.ContainsKey(i.Name)).ToList();
            if (inputs.Count != 1) throw new NotSupportedException($"{_source}: the graph has {inputs.Count} inputs; MiniNet reads graphs of one input.");
            if (graph.Output.Count != 1) throw new NotSupportedException($"{_source}: the graph has {graph.Output.Count} outputs; MiniNet reads graphs of one output.");
            string input = inputs[0].Name;
            var type = inputs[0].Type?.TensorType;
            if (type is null || type.ElemType != (int)global::Onnx.TensorProto.Types.DataType.Float || type.Shape is null)
                throw new NotSupportedException($"{_source}: input '{input}' is not a float tensor of known rank.");
            _ranks[input] = type.Shape.Dim.Count;

            var consumers = graph.Node.SelectMany(n => n.Input).GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
            var nodes = graph.Node.ToList();
            for (_index = 0; _index < nodes.Count; _index++)
            {
                _node = nodes[_index];
                if (_node.Domain is not ("" or "ai.onnx")) Refuse($"its domain '{_node.Domain}' is not the default one");
                foreach (string name in _node.Input.Where(n => n.Length > 0))
                    if (!Known(name)) throw new InvalidDataException($"{_source}: node {Describe()} reads '{name}', which no earlier node, input or initializer gives.");
                // MatMul then the Add of a bias: one Dense.
                if (_node.OpType == "MatMul" && _index + 1 < nodes.Count && nodes[_index + 1] is { OpType: "Add" } add
                    && consumers.GetValueOrDefault(_node.Output[0]) == 1 && add.Input.Contains(_node.Output[0])
                    && add.Input.FirstOrDefault(n => n != _node.Output[0]) is { } biasName && Constant(biasName) is { Rank: 1 } bias)
                {
                    MatMul(add.Output[0], bias, biasName);
                    _index++;
                    continue;
                }
                Node();
            }
            string output = Resolve(graph.Output[0].Name);
            if (!_ranks.ContainsKey(output)) throw new NotSupportedException($"{_source}: the graph output '{output}' is a constant.");
            var model = new OnnxModel(_steps, _constants, input, output, _opset);
            foreach ((string name, Module module) in _registered) model.RegisterModule(name, module);
            model.Eval();
            return model;
        }

        private bool Known(string name) => _constants.ContainsKey(Resolve(name)) || _ranks.ContainsKey(Resolve(name));

        private string Resolve(string name) => _aliases.TryGetValue(name, out string? to) ? to : name;

        private Tensor? Constant(string name) => _constants.GetValueOrDefault(Resolve(name));

        private string Describe() => $"'{(_node.Name.Length > 0 ? _node.Name : _node.Output.FirstOrDefault() ?? "?")}' ({_node.OpType})";

        private void Refuse(string why) => throw new NotSupportedException($"{_source}: node {Describe()} at opset {_opset}: {why}.");

        private string In(int i)
        {
            if (i >= _node.Input.Count || _node.Input[i].Length == 0) Refuse($"input {i} is missing");
            return Resolve(_node.Input[i]);
        }

        private Tensor ConstantInput(int i, string what) =>
            Constant(In(i)) ?? throw new NotSupportedException($"{_source}: node {Describe()} at opset {_opset}: its {what} must be a constant (an initializer).");

        private int RuntimeRank(int i) =>
            _ranks.TryGetValue(In(i), out int rank) ? rank : throw new NotSupportedException($"{_source}: node {Describe()}: input {i} must be a computed value.");

        private void Node()
        {
            string op = _node.OpType;
            if (_node.Output.Count == 0) Refuse("it has no output");
            string output = _node.Output[0];
            if (_node.Output.Skip(1).Any(o => o.Length > 0) && op != "Dropout") Refuse("it has more than one output");
            switch (op)
            {
                case "Constant":
                {
                    var value = _node.Attribute.FirstOrDefault(a => a.Name == "value")?.T;
                    if (value is null || _node.Attribute.Count != 1) Refuse("only Constant(value = tensor) is read");
                    _constants[output] = ReadTensor(value!, $"node {Describe()}");
                    return;
                }
                case "Identity":
                case "Dropout":
                    if (op == "Dropout" && _node.Output.Count > 1 && _node.Output[1].Length > 0 && UsedLater(_node.Output[1])) Refuse("its mask output is used");
                    _aliases[output] = In(0);
                    return;
                case "Pad":
                {
                    Tensor pads = ConstantInput(1, "pads");
                    if (pads.DType != DType.Int64 || pads.Int64Data.ToArray().Any(p => p != 0)) Refuse("only Pad with zero pads (a no-op) is read");
                    _aliases[output] = In(0);
                    return;
                }
                case "Conv": Conv(output); return;
                case "Gemm": Gemm(output); return;
                case "MatMul": MatMul(output, null, null); return;
                case "BatchNormalization": BatchNormalization(output); return;
                case "Relu": Layer(output, new ReLU()); return;
                case "Sigmoid": Layer(output, new Sigmoid()); return;
                case "Tanh": Layer(output, new Tanh()); return;
                case "LeakyRelu": Layer(output, new LeakyReLU(Float("alpha", 0.01f))); return;
                case "Elu": Layer(output, new ELU(Float("alpha", 1f))); return;
                case "Softmax": Layer(output, new Softmax((int)Int("axis", -1))); return;
                case "LogSoftmax": Layer(output, new LogSoftmax((int)Int("axis", -1))); return;
                case "GlobalAveragePool": Layer(output, new AdaptiveAvgPool2d()); return;
                case "MaxPool":
                case "AveragePool": Pool(output); return;
                case "Flatten":
                {
                    long axis = Int("axis", 1);
                    if (axis < 1) Refuse($"Flatten axis {axis} (only axes from 1 are read)");
                    Layer(output, new Flatten((int)axis, -1), rank: 2);
                    return;
                }
                case "Add": AddNode(output); return;
                case "Shape":
                    if (_node.Attribute.Count > 0) Refuse("Shape with start/end attributes is not read");
                    Function(new Step("Shape", [In(0)], output), 1, _ranks.GetValueOrDefault(In(0)));
                    return;
                case "Gather":
                {
                    if (Int("axis", 0) != 0) Refuse("only Gather along axis 0 is read");
                    Tensor index = ConstantInput(1, "indices");
                    Function(new Step("Gather", [In(0), In(1)], output), index.Rank, index.Numel);
                    return;
                }
                case "Unsqueeze":
                {
                    long[] axes = ConstantInput(1, "axes").Int64Data.ToArray();
                    int rank = (_ranks.TryGetValue(In(0), out int r) ? r : Constant(In(0))!.Rank) + axes.Length;
                    Function(new Step("Unsqueeze", [In(0)], output, Ints: axes), rank, Length(In(0)));
                    return;
                }
                case "Concat":
                {
                    string[] inputs = [.. Enumerable.Range(0, _node.Input.Count).Select(In)];
                    int rank = inputs.Select(n => _ranks.TryGetValue(n, out int r) ? r : _constants[n].Rank).First();
                    Function(new Step("Concat", inputs, output, Axis: Int("axis", 0)), rank, inputs.Sum(Length));
                    return;
                }
                case "Reshape":
                {
                    if (Int("allowzero", 0) != 0) Refuse("Reshape with allowzero = 1 is not read");
                    int rank = Length(In(1));
                    if (rank < 0) Refuse($"its target shape '{In(1)}' has a length MiniNet cannot tell before running");
                    Function(new Step("Reshape", [In(0), In(1)], output), rank, -1);
                    return;
                }
                default:
                    Refuse("this operator is not among those MiniNet reads (see OnnxModel)");
                    return;
            }
        }

        private bool UsedLater(string name) => _proto.Graph.Node.Skip(_index + 1).Any(n => n.Input.Contains(name)) || _proto.Graph.Output.Any(o => o.Name == name);

        /// <summary>Elements of a shape vector (a constant's, or a computed one's as its node tells): a Reshape's rank.</summary>
        private int Length(string name) => _constants.TryGetValue(name, out Tensor? c) ? c.Numel : _lengths.GetValueOrDefault(name, -1);

        private readonly Dictionary<string, int> _lengths = [];

        /// <summary>An operation on values: folded now when every input is a constant, else a step whose output has
        /// <paramref name="rank"/> (and, for a shape vector, <paramref name="length"/> elements).</summary>
        private void Function(Step step, int rank, int length)
        {
            if (step.Inputs.All(n => _constants.ContainsKey(n)))
            {
                Tensor value;
                try
                {
                    using (Autograd.NoGrad()) value = Run(step, null, _constants, _constants);
                }
                catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or InvalidOperationException)
                {
                    throw new InvalidDataException($"{_source}: node {Describe()}: {e.Message}", e);
                }
                _constants[step.Output] = value;
                return;
            }
            _steps.Add((step, null));
            _ranks[step.Output] = rank;
            if (length >= 0) _lengths[step.Output] = length;
        }

        private void Layer(string output, Module module, int? rank = null, string? path = null)
        {
            int inputRank = RuntimeRank(0);
            path ??= Register($"{_node.OpType.ToLowerInvariant()}{_index}", module);
            _steps.Add((new Step("Module", [In(0)], output, path), module));
            _ranks[output] = rank ?? inputRank;
        }

        /// <summary>Registers a layer under the path of its parameters (<c>features.0</c>), or a name from its node.</summary>
        private string Register(string fallback, Module module, string? parameterName = null)
        {
            string path = parameterName is not null && ParameterName.Match(parameterName) is { Success: true } m && !_paths.Contains(m.Groups[1].Value)
                && !_paths.Any(p => p.StartsWith(m.Groups[1].Value + ".", StringComparison.Ordinal) || m.Groups[1].Value.StartsWith(p + ".", StringComparison.Ordinal))
                ? m.Groups[1].Value : fallback;
            while (_paths.Contains(path)) path += "_";
            _paths.Add(path);
            string[] parts = path.Split('.');
            if (parts.Length == 1)
            {
                _registered.Add((path, module));
                return path;
            }
            Scope? scope = null;
            for (int i = 0; i < parts.Length - 1; i++)
            {
                string prefix = string.Join('.', parts[..(i + 1)]);
                if (!_scopes.TryGetValue(prefix, out Scope? next))
                {
                    next = new Scope();
                    _scopes[prefix] = next;
                    if (scope is null) _registered.Add((parts[0], next));
                    else scope.Add(parts[i], next);
                }
                scope = next;
            }
            scope!.Add(parts[^1], module);
            return path;
        }

        private void Conv(string output)
        {
            if (RuntimeRank(0) != 4) Refuse("only 2-D convolutions of (N, C, H, W) inputs are read");
            if (String("auto_pad", "NOTSET") is not ("NOTSET" or "VALID")) Refuse($"auto_pad {String("auto_pad", "")} is not read; give explicit pads");
            Tensor weight = ConstantInput(1, "weight");
            if (weight.Rank != 4) Refuse($"weight {Shapes.Format(weight.Shape)} is not (O, C/group, kH, kW)");
            Tensor? bias = _node.Input.Count > 2 && _node.Input[2].Length > 0 ? ConstantInput(2, "bias") : null;
            int groups = (int)Int("group", 1);
            long[] strides = Ints("strides", [1, 1]), pads = Ints("pads", [0, 0, 0, 0]), dilations = Ints("dilations", [1, 1]);
            if (strides.Length != 2 || pads.Length != 4 || dilations.Length != 2) Refuse("strides, pads or dilations of the wrong length");
            int o = weight.Shape[0];
            Conv2d conv;
            try
            {
                conv = new Conv2d(weight.Shape[1] * groups, o, (weight.Shape[2], weight.Shape[3]), ((int)strides[0], (int)strides[1]),
                    ((int)pads[0], (int)pads[1], (int)pads[2], (int)pads[3]), bias is not null, null, ((int)dilations[0], (int)dilations[1]), groups);
            }
            catch (ArgumentException e)
            {
                throw new NotSupportedException($"{_source}: node {Describe()} at opset {_opset}: {e.Message}", e);
            }
            Copy(weight, conv.Weight, "weight");
            if (bias is not null) Copy(bias, conv.Bias!, "bias");
            Layer(output, conv, path: Register($"conv{_index}", conv, _node.Input[1]));
        }

        private void Gemm(string output)
        {
            if (RuntimeRank(0) != 2) Refuse("Gemm reads (N, in) inputs");
            if (Float("alpha", 1f) != 1f || Float("beta", 1f) != 1f || Int("transA", 0) != 0) Refuse("only alpha = beta = 1 and transA = 0 are read");
            Tensor b = ConstantInput(1, "weight");
            if (b.Rank != 2) Refuse($"weight {Shapes.Format(b.Shape)} is not a matrix");
            bool transB = Int("transB", 0) != 0;
            Tensor weight = transB ? b : b.Transpose(0, 1).Clone();
            Tensor? bias = _node.Input.Count > 2 && _node.Input[2].Length > 0 ? ConstantInput(2, "bias") : null;
            DenseLayer(output, weight, bias, _node.Input[1], bias is null ? null : _node.Input[2]);
        }

        private void MatMul(string output, Tensor? bias, string? biasName)
        {
            if (RuntimeRank(0) < 2) Refuse("MatMul reads inputs of rank 2 or more");
            Tensor b = ConstantInput(1, "weight");
            if (b.Rank != 2) Refuse($"weight {Shapes.Format(b.Shape)} is not a matrix");
            using (Autograd.NoGrad()) DenseLayer(output, b.Transpose(0, 1).Clone(), bias, _node.Input[1], biasName);
        }

        private void DenseLayer(string output, Tensor weight, Tensor? bias, string weightName, string? biasName)
        {
            int outFeatures = weight.Shape[0], inFeatures = weight.Shape[1];
            if (bias is not null && bias.Numel != outFeatures) Refuse($"bias {Shapes.Format(bias.Shape)} for {outFeatures} outputs");
            var dense = new Dense(inFeatures, outFeatures, bias: bias is not null);
            Copy(weight, dense.Weight, "weight");
            if (bias is not null) Copy(bias, dense.Bias!, "bias");
            // The bias's name gives the layer's path when the weight's is generated (MatMul's transposed constant).
            string? named = ParameterName.IsMatch(weightName) ? weightName : biasName;
            Layer(output, dense, path: Register($"dense{_index}", dense, named));
        }

        private void BatchNormalization(string output)
        {
            if (Int("training_mode", 0) != 0 || _node.Output.Count > 1 && _node.Output.Skip(1).Any(o => o.Length > 0))
                Refuse("only inference BatchNormalization (training_mode = 0, one output) is read");
            int rank = RuntimeRank(0);
            Tensor scale = ConstantInput(1, "scale"), shift = ConstantInput(2, "B"), mean = ConstantInput(3, "mean"), variance = ConstantInput(4, "var");
            int c = scale.Numel;
            float eps = Float("epsilon", 1e-5f), momentum = 1f - Float("momentum", 0.9f);   // ONNX keeps momentum·running, PyTorch takes momentum·batch
            BatchNorm norm = rank switch
            {
                2 or 3 => new BatchNorm1d(c, eps, momentum),
                4 => new BatchNorm2d(c, eps, momentum),
                _ => throw new NotSupportedException($"{_source}: node {Describe()}: BatchNormalization of rank-{rank} inputs is not read."),
            };
            Copy(scale, norm.Weight!, "scale");
            Copy(shift, norm.Bias!, "B");
            Copy(mean, norm.RunningMean!, "mean");
            Copy(variance, norm.RunningVar!, "var");
            Layer(output, norm, path: Register($"batchnorm{_index}", norm, _node.Input[1]));
        }

        private void Pool(string output)
        {
            if (RuntimeRank(0) != 4) Refuse("only 2-D pooling of (N, C, H, W) inputs is read");
            if (String("auto_pad", "NOTSET") is not ("NOTSET" or "VALID")) Refuse("auto_pad is not read; give explicit pads");
            if (Ints("dilations", [1, 1]).Any(d => d != 1)) Refuse("dilated pooling is not read");
            if (Int("storage_order", 0) != 0) Refuse("storage_order 1 is not read");
            long[] kernel = Ints("kernel_shape", []), strides = Ints("strides", [1, 1]), pads = Ints("pads", [0, 0, 0, 0]);
            if (kernel.Length != 2 || strides.Length != 2 || pads.Length != 4) Refuse("kernel_shape, strides or pads of the wrong length");
            if (pads[0] != pads[2] || pads[1] != pads[3]) Refuse($"asymmetric pads ({string.Join(", ", pads)}) are not read");
            bool ceil = Int("ceil_mode", 0) != 0;
            (int, int) k = ((int)kernel[0], (int)kernel[1]), s = ((int)strides[0], (int)strides[1]), p = ((int)pads[0], (int)pads[1]);
            Module pool;
            try
            {
                pool = _node.OpType == "MaxPool" ? new MaxPool2d(k, s, p, ceil) : new AvgPool2d(k, s, p, ceil, Int("count_include_pad", 0) != 0);
            }
            catch (ArgumentException e)
            {
                throw new NotSupportedException($"{_source}: node {Describe()} at opset {_opset}: {e.Message}", e);
            }
            Layer(output, pool);
        }

        private void AddNode(string output)
        {
            string a = In(0), b = In(1);
            int rank = Math.Max(_ranks.TryGetValue(a, out int ra) ? ra : _constants[a].Rank, _ranks.TryGetValue(b, out int rb) ? rb : _constants[b].Rank);
            Function(new Step("Add", [a, b], output), rank, -1);
        }

        private static void Copy(Tensor from, Tensor to, string what)
        {
            if (from.DType != DType.Float32 || from.Numel != to.Numel)
                throw new InvalidDataException($"ONNX model: {what} {Shapes.Format(from.Shape)} ({from.DType}) does not fit the layer's {Shapes.Format(to.Shape)}.");
            from.Data.CopyTo(to.Data);
        }

        private global::Onnx.AttributeProto? Attribute(string name) => _node.Attribute.FirstOrDefault(a => a.Name == name);

        private long Int(string name, long missing) => Attribute(name) is { } a ? a.I : missing;

        private float Float(string name, float missing) => Attribute(name) is { } a ? a.F : missing;

        private string String(string name, string missing) => Attribute(name) is { } a ? a.S.ToStringUtf8() : missing;

        private long[] Ints(string name, long[] missing) => Attribute(name) is { } a ? [.. a.Ints] : missing;

        /// <summary>A float32 or int64 tensor from its raw or typed data, its size checked against what the file holds
        /// before anything is allocated.</summary>
        private Tensor ReadTensor(global::Onnx.TensorProto t, string what)
        {
            if (t.Dims.Any(d => d < 0 || d > int.MaxValue)) throw new InvalidDataException($"{_source}: {what} has dimensions ({string.Join(", ", t.Dims)}).");
            if (t.DataLocation == global::Onnx.TensorProto.Types.DataLocation.External)
                throw new NotSupportedException($"{_source}: {what} keeps its data in an external file, which MiniNet does not read.");
            long numel = 1;
            foreach (long d in t.Dims)
            {
                numel *= d;
                if (numel > int.MaxValue) throw new InvalidDataException($"{_source}: {what} has {string.Join("×", t.Dims)} elements, too many.");
            }
            int[] shape = [.. t.Dims.Select(d => (int)d)];
            var type = (global::Onnx.TensorProto.Types.DataType)t.DataType;
            int width = type switch
            {
                global::Onnx.TensorProto.Types.DataType.Float => 4,
                global::Onnx.TensorProto.Types.DataType.Int64 => 8,
                _ => throw new NotSupportedException($"{_source}: {what} is of ONNX data type {type}; MiniNet reads float and int64 tensors."),
            };
            long available = t.RawData.Length > 0 ? t.RawData.Length / width : width == 4 ? t.FloatData.Count : t.Int64Data.Count;
            if ((t.RawData.Length > 0 && t.RawData.Length != numel * width) || available != numel)
                throw new InvalidDataException($"{_source}: {what} of shape {Shapes.Format(shape)} holds {available} values, not {numel}.");
            if (width == 4)
            {
                float[] values = t.RawData.Length > 0
                    ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : [.. t.FloatData];
                return Tensor.FromArray(values, shape);
            }
            long[] ints = t.RawData.Length > 0
                ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray() : [.. t.Int64Data];
            return Tensor.FromInt64Array(ints, shape);
        }
    }
}
