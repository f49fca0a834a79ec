using Google.Protobuf;

namespace MiniNet.Layers.Onnx;

/// <summary>A module that describes its own ONNX nodes, so that models containing it can be exported
/// (<see cref="OnnxExport"/>). MiniNet's built-in layers need no such code; a custom layer or block implements this.</summary>
/// <example>A block y = relu(fc(x)) + x:
/// <code>public string ExportOnnx(OnnxGraphBuilder graph, string input)
/// {
///     string hidden = graph.Child(_fc, input);                  // exports the registered child "fc"
///     return graph.Node("Add", [graph.Node("Relu", [hidden]), input]);
/// }</code></example>
public interface IOnnxExportable
{
    /// <summary>Adds the nodes that compute this module's evaluation-mode output from the value named
    /// <paramref name="input"/> and returns the name of the output value.</summary>
    string ExportOnnx(OnnxGraphBuilder graph, string input);
}

/// <summary>The graph an export is building: initializers named after the state-dict keys of the module being exported,
/// nodes, and the sample values that tell each module the shape of its input.</summary>
/// <remarks>The exporter runs the model on a sample input (batch 1) as it goes, so every module's input is known as a
/// MiniNet tensor (<see cref="SampleOf"/>); the graph itself keeps the batch dimension symbolic.</remarks>
public sealed class OnnxGraphBuilder
{
    private readonly global::Onnx.GraphProto _graph;
    private readonly Dictionary<string, Tensor> _samples = [];
    private readonly HashSet<string> _names = [];
    private readonly Stack<(Module Module, string Prefix)> _path = new();
    private readonly Func<OnnxGraphBuilder, Module, string, string> _exportModule;
    private int _counter;

    internal OnnxGraphBuilder(global::Onnx.GraphProto graph, Func<OnnxGraphBuilder, Module, string, string> exportModule) =>
        (_graph, _exportModule) = (graph, exportModule);

    /// <summary>The state-dict path of the module being exported ("" for the model itself, "3.body" inside).</summary>
    public string Prefix => _path.Count == 0 ? "" : _path.Peek().Prefix;

    /// <summary>The module being exported.</summary>
    internal Module Current => _path.Peek().Module;

    internal IEnumerable<global::Onnx.NodeProto> Nodes => _graph.Node;

    /// <summary>The value named <paramref name="name"/> on the sample input (batch 1), or null when it came from a node
    /// the exporter did not compute.</summary>
    public Tensor? SampleOf(string name) => _samples.GetValueOrDefault(name);

    internal void SetSample(string name, Tensor value) => _samples[name] = value;

    /// <summary>Adds <paramref name="value"/> as an initializer named <see cref="Prefix"/>.<paramref name="localName"/>
    /// (the state-dict key, such as <c>0.weight</c>) and returns that name.</summary>
    /// <exception cref="ArgumentException">A name already used in the graph, or a tensor that is neither float32 nor int64.</exception>
    public string Initializer(string localName, Tensor value)
    {
        ArgumentException.ThrowIfNullOrEmpty(localName);
        ArgumentNullException.ThrowIfNull(value);
        string name = Prefix.Length == 0 ? localName : $"{Prefix}.{localName}";
        if (!_names.Add(name)) throw new ArgumentException($"ONNX export: the value name '{name}' is used twice.", nameof(localName));
        return AddInitializer(name, value);
    }

    private string AddInitializer(string name, Tensor value)
    {
        var tensor = new global::Onnx.TensorProto { Name = name };
        tensor.Dims.AddRange(value.Shape.Select(d => (long)d));
        switch (value.DType)
        {
            case DType.Float32:
                tensor.DataType = (int)global::Onnx.TensorProto.Types.DataType.Float;
                tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(value.Data));
                break;
            case DType.Int64:
                tensor.DataType = (int)global::Onnx.TensorProto.Types.DataType.Int64;
                tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(value.Int64Data));
                break;
            default:
                throw new ArgumentException($"ONNX export: initializer '{name}' is {value.DType}; float32 and int64 are exported.", nameof(value));
        }
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian.");
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>Adds a constant (an initializer with a generated name, for values that are not module state, such as a
    /// Reshape's target shape or the 0.5 of a GELU) and returns its name.</summary>
    public string Constant(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return AddInitializer(Unique("const"), value);
    }

    /// <summary>Adds a node of the standard ONNX domain with one output and returns the output's name.</summary>
    /// <param name="opType">The operator, as ONNX names it ("Conv", "Relu").</param>
    /// <param name="inputs">The input values' names (an empty string for an omitted optional input).</param>
    /// <param name="attributes">Attributes: int, long, float, string, int[], long[] or float[] values.</param>
    public string Node(string opType, IReadOnlyList<string> inputs, params (string Name, object Value)[] attributes)
    {
        ArgumentException.ThrowIfNullOrEmpty(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        string output = Unique(Prefix.Length == 0 ? opType : $"{Prefix}.{opType}");
        var node = new global::Onnx.NodeProto { OpType = opType, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        foreach ((string name, object value) in attributes) node.Attribute.Add(Attribute(opType, name, value));
        _graph.Node.Add(node);
        return output;
    }

    /// <summary>Exports <paramref name="child"/>, a module registered in the module being exported, on the value named
    /// <paramref name="input"/>, and returns its output's name; its initializers are named under its state-dict path.</summary>
    /// <exception cref="ArgumentException">The module is not a registered child of the current module.</exception>
    /// <exception cref="InvalidOperationException">The input's sample value is unknown (it came from a custom node).</exception>
    public string Child(Module child, string input)
    {
        ArgumentNullException.ThrowIfNull(child);
        string? name = Current.NamedChildren().FirstOrDefault(c => ReferenceEquals(c.Module, child)).Name;
        if (name is null)
            throw new ArgumentException($"ONNX export: {child.GetType().Name} is not a registered child of module '{Prefix}' ({Current.GetType().Name}).", nameof(child));
        return Export(child, Prefix.Length == 0 ? name : $"{Prefix}.{name}", input);
    }

    /// <summary>Exports a module under the given state-dict path, computing its sample output.</summary>
    internal string Export(Module module, string prefix, string input)
    {
        Tensor sample = SampleOf(input)
            ?? throw new InvalidOperationException(
                $"ONNX export: module '{prefix}' ({module.GetType().Name}) reads '{input}', a value the exporter has no sample of; export children on the block's input or on other children's outputs.");
        string output;
        using (Enter(module, prefix)) output = _exportModule(this, module, input);
        Tensor result;
        using (Autograd.NoGrad()) result = module.Call(sample);
        SetSample(output, result);
        return output;
    }

    /// <summary>Exports <paramref name="layer"/> at <paramref name="prefix"/> with the BatchNorm after it folded in, as
    /// one unit: its initializers are named under the layer's path, and its sample output is the pair's.</summary>
    internal string ExportFolded(Module layer, string prefix, BatchNorm norm, string input, Func<OnnxGraphBuilder, string, string> export)
    {
        Tensor sample = SampleOf(input) ?? throw new InvalidOperationException($"ONNX export: no sample of '{input}' for module '{prefix}'.");
        string output;
        using (Enter(layer, prefix)) output = export(this, input);
        Tensor result;
        using (Autograd.NoGrad()) result = norm.Call(layer.Call(sample));
        SetSample(output, result);
        return output;
    }

    private PathScope Enter(Module module, string prefix)
    {
        _path.Push((module, prefix));
        return new PathScope(_path);
    }

    private readonly struct PathScope(Stack<(Module, string)> path) : IDisposable
    {
        public void Dispose() => path.Pop();
    }

    private string Unique(string stem)
    {
        string name = stem;
        while (!_names.Add(name)) name = $"{stem}_{++_counter}";
        return name;
    }

    private static global::Onnx.AttributeProto Attribute(string opType, string name, object value)
    {
        var a = new global::Onnx.AttributeProto { Name = name };
        switch (value)
        {
            case int i: a.Type = global::Onnx.AttributeProto.Types.AttributeType.Int; a.I = i; break;
            case long l: a.Type = global::Onnx.AttributeProto.Types.AttributeType.Int; a.I = l; break;
            case bool b: a.Type = global::Onnx.AttributeProto.Types.AttributeType.Int; a.I = b ? 1 : 0; break;
            case float f: a.Type = global::Onnx.AttributeProto.Types.AttributeType.Float; a.F = f; break;
            case string s: a.Type = global::Onnx.AttributeProto.Types.AttributeType.String; a.S = ByteString.CopyFromUtf8(s); break;
            case int[] ints: a.Type = global::Onnx.AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ints.Select(v => (long)v)); break;
            case long[] longs: a.Type = global::Onnx.AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(longs); break;
            case float[] floats: a.Type = global::Onnx.AttributeProto.Types.AttributeType.Floats; a.Floats.AddRange(floats); break;
            default:
                throw new ArgumentException($"ONNX export: attribute '{name}' of {opType} has a value of type {value?.GetType().Name ?? "null"}.", nameof(value));
        }
        return a;
    }
}
