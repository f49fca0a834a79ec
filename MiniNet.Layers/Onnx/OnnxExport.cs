using Google.Protobuf;

namespace MiniNet.Layers.Onnx;

/// <summary>Options of an ONNX export.</summary>
/// <param name="FoldBatchNorm">Fold each evaluation-mode BatchNorm that follows a Dense or a plain Conv2d into that
/// layer's weight and bias (the fusion planner's affine map), instead of exporting a BatchNormalization node.</param>
/// <param name="InputName">The graph input's name.</param>
/// <param name="OutputName">The graph output's name.</param>
/// <param name="BatchDimension">The symbolic name of the first (batch) dimension.</param>
public sealed record OnnxExportOptions(bool FoldBatchNorm = false, string InputName = "input", string OutputName = "output",
    string BatchDimension = "batch");

/// <summary>Writes evaluation-mode models as ONNX (opset 17), for ONNX Runtime, ML.NET's <c>ApplyOnnxModel</c> and any
/// other ONNX consumer. docs/onnx.md lists how each layer maps to ONNX nodes.</summary>
/// <remarks>
/// <para>The batch dimension is symbolic; the other input dimensions are those given. Initializers are named after the
/// state-dict keys (<c>0.weight</c>, <c>1.running_mean</c>). The file is written to a temporary file and renamed, so a
/// failed export leaves an existing file as it was.</para>
/// <para>Built in: Dense (Gemm, or MatMul and Add beyond rank 2), Conv2d (Conv, with strides, pads, dilations and
/// groups), BatchNorm1d/2d and BatchRenorm1d/2d (BatchNormalization, or folded), LayerNorm (LayerNormalization), ReLU,
/// Sigmoid, Tanh, LeakyReLU, ELU, GELU, SiLU, Softplus, Softmax, LogSoftmax, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d,
/// Flatten, Dropout and Identity (no node), Sequential and Residual. Any other module implements
/// <see cref="IOnnxExportable"/>; one that does not is refused, by name.</para>
/// </remarks>
public static class OnnxExport
{
    /// <summary>The operator set the export targets (LayerNormalization is in 17).</summary>
    public const int Opset = 17;

    /// <summary>Exports <paramref name="model"/> to <paramref name="path"/> for inputs of shape (batch, …<paramref name="inputShape"/>).</summary>
    /// <param name="model">An evaluation-mode model (<see cref="Module.Eval"/>).</param>
    /// <param name="path">The .onnx file to write.</param>
    /// <param name="inputShape">One sample's shape, without the batch dimension: (784) or (1, 28, 28).</param>
    /// <param name="options">Folding and names; the defaults when null.</param>
    /// <exception cref="InvalidOperationException">A module in training mode.</exception>
    /// <exception cref="NotSupportedException">A module with no ONNX form (the message names it and its type).</exception>
    /// <exception cref="ArgumentException">An input shape the model does not take.</exception>
    public static void ExportOnnx(this Module model, string path, int[] inputShape, OnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = ToOnnx(model, inputShape, options);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"ONNX export: cannot write '{path}': folder '{directory}' does not exist.");
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>The ONNX model's bytes (see <see cref="ExportOnnx"/>).</summary>
    public static byte[] ToOnnx(this Module model, int[] inputShape, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        options ??= new OnnxExportOptions();
        if (inputShape.Any(d => d < 1))
            throw new ArgumentException($"ONNX export: input shape {Shapes.Format(inputShape)} has a dimension below 1.", nameof(inputShape));
        foreach ((string name, Module m) in model.NamedModules())
            if (m.Training)
                throw new InvalidOperationException(
                    $"ONNX export: module '{(name.Length == 0 ? "(model)" : name)}' ({m.GetType().Name}) is in training mode; call Eval() first.");

        var graph = new global::Onnx.GraphProto { Name = model.GetType().Name };
        var exporter = new Exporter(options);
        var builder = new OnnxGraphBuilder(graph, exporter.Module);
        builder.SetSample(options.InputName, Tensor.Randn([1, .. inputShape], seed: 0));
        string output = builder.Export(model, "", options.InputName);
        // The last node writes the graph output under its name (a model that computes nothing gets an Identity).
        global::Onnx.NodeProto? last = graph.Node.LastOrDefault(n => n.Output.Contains(output));
        if (last is null || output == options.InputName)
            graph.Node.Add(new global::Onnx.NodeProto { OpType = "Identity", Name = "output", Input = { output }, Output = { options.OutputName } });
        else
        {
            foreach (global::Onnx.NodeProto node in graph.Node)
                for (int i = 0; i < node.Input.Count; i++)
                    if (node.Input[i] == output) node.Input[i] = options.OutputName;
            last.Output[last.Output.IndexOf(output)] = options.OutputName;
        }
        Tensor sampleOutput = builder.SampleOf(output)!;
        graph.Input.Add(ValueInfo(options.InputName, options.BatchDimension, inputShape));
        graph.Output.Add(ValueInfo(options.OutputName, options.BatchDimension, [.. sampleOutput.Shape.Skip(1)]));

        var proto = new global::Onnx.ModelProto
        {
            IrVersion = 8,
            ProducerName = "MiniNet",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString(3) ?? "0",
            Graph = graph,
            DocString = $"Exported by MiniNet from {model.GetType().Name}{(options.FoldBatchNorm ? " (BatchNorm folded)" : "")}.",
        };
        proto.OpsetImport.Add(new global::Onnx.OperatorSetIdProto { Domain = "", Version = Opset });
        proto.MetadataProps.Add(new global::Onnx.StringStringEntryProto { Key = "input_shape", Value = $"({options.BatchDimension}, {string.Join(", ", inputShape)})" });
        proto.MetadataProps.Add(new global::Onnx.StringStringEntryProto { Key = "batchnorm", Value = options.FoldBatchNorm ? "folded" : "BatchNormalization" });
        return proto.ToByteArray();
    }

    private static global::Onnx.ValueInfoProto ValueInfo(string name, string batch, IReadOnlyList<int> shape)
    {
        var tensorType = new global::Onnx.TypeProto.Types.Tensor { ElemType = (int)global::Onnx.TensorProto.Types.DataType.Float, Shape = new() };
        tensorType.Shape.Dim.Add(new global::Onnx.TensorShapeProto.Types.Dimension { DimParam = batch });
        foreach (int d in shape) tensorType.Shape.Dim.Add(new global::Onnx.TensorShapeProto.Types.Dimension { DimValue = d });
        return new global::Onnx.ValueInfoProto { Name = name, Type = new global::Onnx.TypeProto { TensorType = tensorType } };
    }

    /// <summary>The built-in layers' ONNX forms.</summary>
    private sealed class Exporter(OnnxExportOptions options)
    {
        public string Module(OnnxGraphBuilder g, Module module, string input) => module switch
        {
            IOnnxExportable custom => custom.ExportOnnx(g, input),
            Sequential s => Chain(g, s, input),
            Residual r => g.Node("Add", [g.Child(r.Body, input), r.Shortcut is null ? input : g.Child(r.Shortcut, input)]),
            Dense d => Linear(g, d, input, null),
            Conv2d c => Convolution(g, c, input, null),
            BatchNorm b => BatchNormalization(g, input, b.Weight, b.Bias, b.RunningMean!, b.RunningVar!, b.Eps, b.NumFeatures),
            BatchRenorm b => BatchNormalization(g, input, b.Weight, b.Bias, b.RunningMean, b.RunningVar, b.Eps, b.NumFeatures),
            LayerNorm l => LayerNormalization(g, l, input),
            ReLU => g.Node("Relu", [input]),
            Sigmoid => g.Node("Sigmoid", [input]),
            Tanh => g.Node("Tanh", [input]),
            LeakyReLU l => g.Node("LeakyRelu", [input], ("alpha", l.NegativeSlope)),
            ELU e => g.Node("Elu", [input], ("alpha", e.Alpha)),
            GELU gelu => Gelu(g, gelu, input),
            SiLU => g.Node("Mul", [input, g.Node("Sigmoid", [input])]),
            Softplus sp => Softplus(g, sp, input),
            Softmax sm => g.Node("Softmax", [input], ("axis", sm.Dim)),
            LogSoftmax lsm => g.Node("LogSoftmax", [input], ("axis", lsm.Dim)),
            MaxPool2d p => Pool(g, "MaxPool", p, input, countIncludePad: null),
            AvgPool2d p => Pool(g, "AveragePool", p, input, p.CountIncludePad),
            AdaptiveAvgPool2d a => AdaptivePool(g, a, input),
            Flatten f => FlattenNode(g, f, input),
            Dropout or Identity => input,
            _ => throw new NotSupportedException(
                $"ONNX export: module '{(g.Prefix.Length == 0 ? "(model)" : g.Prefix)}' ({module.GetType().Name}) has no ONNX form; implement IOnnxExportable to describe its nodes."),
        };

        /// <summary>A Sequential's children in order; with folding, a Dense or plain Conv2d absorbs the BatchNorm after it.</summary>
        private string Chain(OnnxGraphBuilder g, Sequential s, string input)
        {
            string value = input;
            for (int i = 0; i < s.Count; i++)
            {
                Module m = s[i];
                if (options.FoldBatchNorm && i + 1 < s.Count && s[i + 1] is BatchNorm norm && !norm.UsesBatchStatistics
                    && (m is Dense || m is Conv2d { IsPlain: true }))
                {
                    value = g.ExportFolded(m, Join(g.Prefix, i), norm, value,
                        (inner, v) => m is Dense d ? Linear(inner, d, v, norm) : Convolution(inner, (Conv2d)m, v, norm));
                    i++;
                    continue;
                }
                value = g.Export(m, Join(g.Prefix, i), value);
            }
            return value;
        }

        private static string Join(string prefix, int index) => prefix.Length == 0 ? $"{index}" : $"{prefix}.{index}";

        /// <summary>(W, b) of a layer, with the BatchNorm after it folded in when given: W' = W·scale per output, b' = b·scale + shift.</summary>
        private static (Tensor Weight, Tensor? Bias) Folded(Parameter weight, Parameter? bias, BatchNorm? norm, int outputs)
        {
            if (norm is null) return (weight, bias);
            (float[] scale, float[] shift) = InferenceAffine.Of(norm, outputs);
            float[] w = weight.ToArray();
            int perOutput = w.Length / outputs;
            for (int o = 0; o < outputs; o++)
                for (int k = 0; k < perOutput; k++) w[o * perOutput + k] *= scale[o];
            var b = new float[outputs];
            for (int o = 0; o < outputs; o++) b[o] = (bias?.Data[o] ?? 0f) * scale[o] + shift[o];
            return (Tensor.FromArray(w, [.. weight.Shape]), Tensor.FromArray(b, outputs));
        }

        private static string Linear(OnnxGraphBuilder g, Dense d, string input, BatchNorm? norm)
        {
            (Tensor weight, Tensor? bias) = Folded(d.Weight, d.Bias, norm, d.OutFeatures);
            Tensor sample = g.SampleOf(input)!;
            if (sample.Rank == 2)
            {
                string w = g.Initializer("weight", weight);
                return g.Node("Gemm", bias is null ? [input, w] : [input, w, g.Initializer("bias", bias)], ("transB", 1));
            }
            // (…, in)·Wᵀ: MatMul takes any leading dimensions; its operand is the transposed weight, a constant (the
            // state-dict name stays with the (out, in) layout).
            string product;
            using (Autograd.NoGrad()) product = g.Node("MatMul", [input, g.Constant(weight.Transpose(0, 1).Clone())]);
            return bias is null ? product : g.Node("Add", [product, g.Initializer("bias", bias)]);
        }

        private static string Convolution(OnnxGraphBuilder g, Conv2d c, string input, BatchNorm? norm)
        {
            (Tensor weight, Tensor? bias) = Folded(c.Weight, c.Bias, norm, c.OutChannels);
            string w = g.Initializer("weight", weight);
            string? b = bias is null ? null : g.Initializer("bias", bias);
            return g.Node("Conv", b is null ? [input, w] : [input, w, b],
                ("kernel_shape", new[] { c.KernelSize.Height, c.KernelSize.Width }), ("strides", new[] { c.Stride.Height, c.Stride.Width }),
                ("pads", new[] { c.Padding.Top, c.Padding.Left, c.Padding.Bottom, c.Padding.Right }),
                ("dilations", new[] { c.Dilation.Height, c.Dilation.Width }), ("group", c.Groups));
        }

        private static string BatchNormalization(OnnxGraphBuilder g, string input, Tensor? weight, Tensor? bias, Tensor mean, Tensor variance,
            float eps, int features)
        {
            string scale = weight is null ? g.Constant(Tensor.Ones(features)) : g.Initializer("weight", weight);
            string shift = bias is null ? g.Constant(Tensor.Zeros(features)) : g.Initializer("bias", bias);
            return g.Node("BatchNormalization", [input, scale, shift, g.Initializer("running_mean", mean), g.Initializer("running_var", variance)],
                ("epsilon", eps));
        }

        private static string LayerNormalization(OnnxGraphBuilder g, LayerNorm l, string input)
        {
            int[] shape = [.. l.NormalizedShape];
            string scale = l.Weight is null ? g.Constant(Tensor.Ones(shape)) : g.Initializer("weight", l.Weight);
            string shift = l.Bias is null ? g.Constant(Tensor.Zeros(shape)) : g.Initializer("bias", l.Bias);
            return g.Node("LayerNormalization", [input, scale, shift], ("axis", -shape.Length), ("epsilon", l.Eps));
        }

        private static string Gelu(OnnxGraphBuilder g, GELU gelu, string input)
        {
            // Opset 17 has no Gelu: 0.5·x·(1 + erf(x/√2)), or with "tanh" 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
            string inner = gelu.Approximate == "tanh"
                ? g.Node("Tanh", [g.Node("Mul", [g.Node("Add", [input, g.Node("Mul", [g.Node("Mul", [g.Node("Mul", [input, input]), input]), Scalar(g, 0.044715f)])]),
                    Scalar(g, MathF.Sqrt(2f / MathF.PI))])])
                : g.Node("Erf", [g.Node("Div", [input, Scalar(g, MathF.Sqrt(2f))])]);
            return g.Node("Mul", [g.Node("Mul", [input, g.Node("Add", [inner, Scalar(g, 1f)])]), Scalar(g, 0.5f)]);
        }

        private static string Softplus(OnnxGraphBuilder g, Softplus sp, string input)
        {
            // ONNX Softplus is log(1 + eˣ); PyTorch's β scales it, softplus(βx)/β. (Above its threshold PyTorch returns
            // x itself, which log(1 + eˣ) equals in float32.)
            if (sp.Beta == 1f) return g.Node("Softplus", [input]);
            return g.Node("Div", [g.Node("Softplus", [g.Node("Mul", [input, Scalar(g, sp.Beta)])]), Scalar(g, sp.Beta)]);
        }

        /// <summary>MaxPool or AveragePool. Where PyTorch's ceil-mode rule (a last window must start inside the image or
        /// its left padding) drops a window that ONNX 1.12's ceil formula keeps, ceil mode is written as floor mode with
        /// the extra windows' padding after the image: the same windows under every version of the spec. An average that
        /// counts the padding keeps ceil_mode there too, since explicit extra padding would enter its divisor.</summary>
        private static string Pool(OnnxGraphBuilder g, string op, Pool2d p, string input, bool? countIncludePad)
        {
            int[] kernel = [p.Kernel.Height, p.Kernel.Width], strides = [p.Stride.Height, p.Stride.Width];
            int[] pads = [p.Padding.Height, p.Padding.Width, p.Padding.Height, p.Padding.Width];
            bool ceil = p.CeilMode;
            if (ceil && countIncludePad != true)
            {
                Tensor sample = g.SampleOf(input)!, output;
                using (Autograd.NoGrad()) output = p.Call(sample);
                // Only where PyTorch's rule drops a last window does the plain ceil formula count one more.
                bool differs = false;
                for (int axis = 0; axis < 2; axis++)
                {
                    int span = sample.Shape[2 + axis] + 2 * pads[axis] - kernel[axis];
                    differs |= (span + strides[axis] - 1) / strides[axis] + 1 != output.Shape[2 + axis];
                }
                if (differs)
                {
                    for (int axis = 0; axis < 2; axis++)
                    {
                        int size = sample.Shape[2 + axis], outSize = output.Shape[2 + axis];
                        pads[2 + axis] += Math.Max(0, (outSize - 1) * strides[axis] + kernel[axis] - (size + 2 * pads[axis]));
                    }
                    ceil = false;
                }
            }
            var attributes = new List<(string, object)> { ("kernel_shape", kernel), ("strides", strides), ("pads", pads), ("ceil_mode", ceil) };
            if (countIncludePad is bool counted) attributes.Add(("count_include_pad", counted));
            return g.Node(op, [input], [.. attributes]);
        }

        private static string Scalar(OnnxGraphBuilder g, float value) => g.Constant(Tensor.Scalar(value));

        private static string AdaptivePool(OnnxGraphBuilder g, AdaptiveAvgPool2d a, string input)
        {
            if (a.OutputHeight == 1 && a.OutputWidth == 1) return g.Node("GlobalAveragePool", [input]);
            Tensor sample = g.SampleOf(input)!;
            int h = sample.Shape[2], w = sample.Shape[3];
            if (h % a.OutputHeight != 0 || w % a.OutputWidth != 0)
                throw new NotSupportedException(
                    $"ONNX export: module '{g.Prefix}' (AdaptiveAvgPool2d({a.OutputHeight}, {a.OutputWidth})) on {h}×{w} inputs has unequal windows, which ONNX pooling cannot express.");
            int kh = h / a.OutputHeight, kw = w / a.OutputWidth;
            return g.Node("AveragePool", [input], ("kernel_shape", new[] { kh, kw }), ("strides", new[] { kh, kw }));
        }

        private static string FlattenNode(OnnxGraphBuilder g, Flatten f, string input)
        {
            Tensor sample = g.SampleOf(input)!;
            int rank = sample.Rank, start = f.StartDim < 0 ? f.StartDim + rank : f.StartDim, end = f.EndDim < 0 ? f.EndDim + rank : f.EndDim;
            if (start == 1 && end == rank - 1) return g.Node("Flatten", [input], ("axis", 1));
            // Other ranges: a Reshape that copies the dimensions before the range (0), infers the flattened one (−1)
            // and names those after it.
            long[] shape = [.. Enumerable.Repeat(0L, start), -1L, .. sample.Shape.Skip(end + 1).Select(d => (long)d)];
            return g.Node("Reshape", [input, g.Constant(Tensor.FromInt64Array(shape, shape.Length))]);
        }
    }
}
