using System.Numerics.Tensors;
using MiniNet.Kernels;

namespace MiniNet;

public static partial class Ops
{
    /// <summary>Fully connected map y = x·Wᵀ + b, fused (no transposed copy of W). Equal to <c>x.MatMul(W.T()) + b</c>.</summary>
    /// <remarks>Shapes: x (…, in), weight (out, in), bias (out) or null → y (…, out). Leading dimensions fold into rows.
    /// Backward: dx += dy·W, dW += dyᵀ·x, db += Σ_rows dy.</remarks>
    /// <exception cref="ArgumentException">x's last dimension differs from weight's, or bias is not (out).</exception>
    public static Tensor Linear(this Tensor x, Tensor weight, Tensor? bias = null)
    {
        (int outF, int inF) = CheckLinear("Linear", x, weight, bias);

        int rows = inF == 0 ? Shapes.Numel(x.Dims[..^1]) : x.Numel / inF;
        Tensor y = Tensor.Allocate([.. x.Dims[..^1], outF]);
        Gemm.Multiply(false, true, rows, outF, inF, x.Values, inF, weight.Values, inF, y.Values, outF, accumulate: false);
        if (bias is not null)
        {
            Span<float> ys = y.Values;
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(ys.Slice(r * outF, outF), bias.Values, ys.Slice(r * outF, outF));
        }
        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Autograd.Record(y, "linear", inputs, dy =>
        {
            if (x.RequiresGrad)
            {
                GradientTarget dx = Autograd.GradTarget(x);
                Gemm.Multiply(false, false, rows, inF, outF, dy.Values, outF, weight.Values, inF, dx.Data, inF, dx.Accumulate);
            }
            if (weight.RequiresGrad)
            {
                GradientTarget dw = Autograd.GradTarget(weight);
                Gemm.Multiply(true, false, outF, inF, rows, dy.Values, outF, x.Values, inF, dw.Data, inF, dw.Accumulate);
            }
            if (bias is { RequiresGrad: true })
            {
                Span<float> db = Autograd.GradTarget(bias).ForAdding();
                ReadOnlySpan<float> g = dy.Values;
                for (int r = 0; r < rows; r++) TensorPrimitives.Add(db, g.Slice(r * outF, outF), db);
            }
        });
    }
}

public static partial class Ops
{
    /// <summary>Validates weight (out, in), bias (out) or null, scale and shift (out values each) and the activation of
    /// <paramref name="op"/>; returns (out, in).</summary>
    internal static (int Out, int In) CheckAffine(string op, Tensor weight, Tensor? bias, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        FusedActivation activation)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
            throw new ArgumentException($"{op}: weight must be (out, in), got {Shapes.Format(weight.Dims)}.", nameof(weight));
        int outF = weight.Dims[0], inF = weight.Dims[1];
        if (bias is not null && (bias.Rank != 1 || bias.Dims[0] != outF))
            throw new ArgumentException($"{op}: bias must have shape ({outF}), got {Shapes.Format(bias.Dims)}.", nameof(bias));
        CheckScaleShift(op, outF, scale, shift, activation);
        return (outF, inF);
    }

    /// <summary>Validates the per-output map of a fused layer: <paramref name="outputs"/> scale and shift values each, and
    /// a known activation.</summary>
    internal static void CheckScaleShift(string op, int outputs, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, FusedActivation activation)
    {
        if (scale.Length != outputs || shift.Length != outputs)
            throw new ArgumentException($"{op}: scale and shift need {outputs} values each (one per output), got {scale.Length} and {shift.Length}.", nameof(scale));
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, $"{op}: unknown activation.");
    }

    /// <summary>(x·Wᵀ + b)·s + t = (x·Wᵀ)·s + (b·s + t): the shift with a layer's bias folded in, one fused multiply-add per
    /// feature, as the fused ops fold it (a frozen layer folds it once with this and passes no bias).</summary>
    /// <exception cref="ArgumentException">The bias, scale and shift differ in length.</exception>
    public static float[] FoldBias(Tensor? bias, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift)
    {
        if (scale.Length != shift.Length || (bias is not null && bias.Numel != shift.Length))
            throw new ArgumentException(
                $"FoldBias: bias {(bias is null ? "null" : Shapes.Format(bias.Dims))}, {scale.Length} scales and {shift.Length} shifts differ in length.", nameof(shift));
        float[] folded = shift.ToArray();
        if (bias is not null)
        {
            ReadOnlySpan<float> b = bias.Values;
            for (int j = 0; j < folded.Length; j++) folded[j] = MathF.FusedMultiplyAdd(b[j], scale[j], folded[j]);
        }
        return folded;
    }

    /// <summary>Validates x (…, in), weight (out, in) and bias (out) or null for <paramref name="op"/>; returns (out, in).</summary>
    private static (int Out, int In) CheckLinear(string op, Tensor x, Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
            throw new ArgumentException($"{op}: weight must be (out, in), got {Shapes.Format(weight.Dims)}.", nameof(weight));
        int outF = weight.Dims[0], inF = weight.Dims[1];
        if (x.Rank < 1 || x.Dims[^1] != inF)
            throw new ArgumentException(
                $"{op}: expects x of shape (N, {inF}) for weight {Shapes.Format(weight.Dims)}, got {Shapes.Format(x.Dims)}.", nameof(x));
        if (bias is not null && (bias.Rank != 1 || bias.Dims[0] != outF))
            throw new ArgumentException($"{op}: bias must have shape ({outF}), got {Shapes.Format(bias.Dims)}.", nameof(bias));
        return (outF, inF);
    }
}

public static partial class Ops
{
    /// <summary>Inference-only fused layer: y = act((x·Wᵀ + b)·scale + shift), with scale and shift per output feature.
    /// A linear layer followed by an inference-mode BatchNorm (scale = γ/√(running σ² + ε), shift = β − running μ·scale)
    /// and an activation computes in one pass: the map is applied to each tile of the product while it is in cache.</summary>
    /// <remarks>Records no graph, so it refuses inputs that would need one: call it under <see cref="Autograd.NoGrad"/>
    /// (or on tensors that do not require grad). Shapes: x (…, in), weight (out, in), bias, scale and shift (out).</remarks>
    /// <exception cref="ArgumentException">Mismatched shapes.</exception>
    /// <exception cref="InvalidOperationException">Gradient recording is on and an input requires grad.</exception>
    public static Tensor LinearAffine(this Tensor x, Tensor weight, Tensor? bias, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        FusedActivation activation)
    {
        (int outF, int inF) = CheckLinear("LinearAffine", x, weight, bias);
        CheckAffine("LinearAffine", weight, bias, scale, shift, activation);
        if (Autograd.Enabled && (x.RequiresGrad || weight.RequiresGrad || bias is { RequiresGrad: true }))
            throw new InvalidOperationException(
                "LinearAffine is inference-only and records no graph: call it under Autograd.NoGrad(), or use Linear, BatchNorm and the activation.");

        CheckAffineInputs("linear_affine", x, weight.Values, weight.Shape, bias, scale, shift);
        float[] folded = FoldBias(bias, scale, shift);
        int rows = inF == 0 ? Shapes.Numel(x.Dims[..^1]) : x.Numel / inF;
        Tensor y = Tensor.Allocate([.. x.Dims[..^1], outF]);
        Gemm.Multiply(false, true, rows, outF, inF, x.Values, inF, weight.Values, inF, y.Values, outF, accumulate: false,
            new GemmEpilogue(scale, folded, activation));
        Autograd.CheckFinite(y, "linear_affine", "its output");
        return y;
    }

    /// <summary>Under anomaly detection, the inputs of a fused op (which records no graph and computes several steps at
    /// once): each must be finite, so that the fused op fails where its unfused chain would have.</summary>
    internal static void CheckAffineInputs(string op, Tensor x, ReadOnlySpan<float> weight, IReadOnlyList<int> weightShape, Tensor? bias,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> shift)
    {
        if (!Autograd.AnomalyDetection) return;
        Autograd.CheckFiniteInput(x.Values, x.Shape, op, "its input");
        Autograd.CheckFiniteInput(weight, weightShape, op, "its weight");
        if (bias is not null) Autograd.CheckFiniteInput(bias.Values, bias.Shape, op, "its bias");
        Autograd.CheckFiniteInput(scale, [scale.Length], op, "its scale");
        Autograd.CheckFiniteInput(shift, [shift.Length], op, "its shift");
    }

    /// <summary><see cref="LinearAffine(Tensor, Tensor, Tensor?, ReadOnlySpan{float}, ReadOnlySpan{float}, FusedActivation)"/>
    /// with a weight packed once (<see cref="PackedWeight.ForLinear"/>; a frozen layer's): bitwise equal to the unpacked
    /// op with the same values.</summary>
    /// <exception cref="ArgumentException">x's last dimension is not the weight's, or bias, scale and shift are not out values each.</exception>
    /// <exception cref="InvalidOperationException">Gradient recording is on and x requires grad.</exception>
    public static Tensor LinearAffine(this Tensor x, PackedWeight weight, Tensor? bias, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        FusedActivation activation)
    {
        (int outF, _) = CheckPackedLinear("LinearAffine", x, weight);
        CheckBias("LinearAffine", outF, bias);
        CheckScaleShift("LinearAffine", outF, scale, shift, activation);
        CheckAffineInputs("linear_affine", x, weight.Values.Values, weight.Shape, bias, scale, shift);
        return PackedProduct(x, weight, new GemmEpilogue(scale, bias is null ? shift : FoldBias(bias, scale, shift), activation), "linear_affine");
    }

    private static void CheckBias(string op, int outputs, Tensor? bias)
    {
        if (bias is not null && (bias.Rank != 1 || bias.Dims[0] != outputs))
            throw new ArgumentException($"{op}: bias must have shape ({outputs}), got {Shapes.Format(bias.Dims)}.", nameof(bias));
    }

    /// <summary>x·Wᵀ with a weight packed once (<see cref="PackedWeight.ForLinear"/>): bitwise equal to
    /// <c>x.Linear(W)</c>. Inference-only, like the fused form.</summary>
    /// <exception cref="ArgumentException">x's last dimension is not the weight's.</exception>
    /// <exception cref="InvalidOperationException">Gradient recording is on and x requires grad.</exception>
    public static Tensor Linear(this Tensor x, PackedWeight weight)
    {
        CheckPackedLinear("Linear", x, weight);
        CheckAffineInputs("linear", x, weight.Values.Values, weight.Shape, null, default, default);
        return PackedProduct(x, weight, default, "linear");
    }

    private static (int Out, int In) CheckPackedLinear(string op, Tensor x, PackedWeight weight)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Kind != PackedWeight.Layout.Linear)
            throw new ArgumentException($"{op}: the packed weight {Shapes.Format(weight.Shape)} was packed for a convolution, not a linear layer.", nameof(weight));
        int outF = weight.Shape[0], inF = weight.Shape[1];
        if (x.Rank < 1 || x.Dims[^1] != inF)
            throw new ArgumentException($"{op}: expects x of shape (…, {inF}) for the packed weight {Shapes.Format(weight.Shape)}, got {Shapes.Format(x.Dims)}.", nameof(x));
        if (Autograd.Enabled && x.RequiresGrad)
            throw new InvalidOperationException(
                $"{op} with a packed weight is inference-only and records no graph: call it under Autograd.NoGrad(), or on a tensor that does not require grad.");
        return (outF, inF);
    }

    private static Tensor PackedProduct(Tensor x, PackedWeight weight, GemmEpilogue epilogue, string op)
    {
        int outF = weight.Shape[0], inF = weight.Shape[1];
        int rows = inF == 0 ? Shapes.Numel(x.Dims[..^1]) : x.Numel / inF;
        Tensor y = Tensor.Allocate([.. x.Dims[..^1], outF]);
        Gemm.Multiply(false, rows, inF, x.Values, inF, weight.PackedB!, y.Values, outF, accumulate: false, epilogue);
        Autograd.CheckFinite(y, op, "its output");
        return y;
    }
}
