using MiniNet.Kernels;

namespace MiniNet;

/// <summary>A layer's weight copied and packed once for the matrix products of repeated inference (a frozen layer's),
/// so that <see cref="Ops.LinearAffine(Tensor, PackedWeight, Tensor?, ReadOnlySpan{float}, ReadOnlySpan{float}, FusedActivation)"/>
/// and <see cref="Ops.Conv2dAffine(Tensor, PackedWeight, Tensor?, ReadOnlySpan{float}, ReadOnlySpan{float}, FusedActivation, int, int)"/>
/// skip packing it on every call. Their outputs are bitwise equal to the unpacked ops' on the same values.</summary>
/// <remarks>A snapshot: later changes to the tensor it was made from do not reach it.</remarks>
public sealed class PackedWeight
{
    internal enum Layout { Linear, Conv2d }

    private PackedWeight(Layout kind, Tensor values, PackedB? packedB, PackedA? packedA) =>
        (Kind, Values, PackedB, PackedA) = (kind, values, packedB, packedA);

    /// <summary>Packs a linear layer's weight (out, in) for products x·Wᵀ.</summary>
    /// <exception cref="ArgumentException">The weight is not two-dimensional.</exception>
    public static PackedWeight ForLinear(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
            throw new ArgumentException($"PackedWeight.ForLinear: weight must be (out, in), got {Shapes.Format(weight.Dims)}.", nameof(weight));
        int outF = weight.Dims[0], inF = weight.Dims[1];
        PackedB packed = Gemm.Pack(transB: true, inF, outF, weight.Values, inF);
        return new PackedWeight(Layout.Linear, new Tensor(packed.Values!, [outF, inF]), packed, null);
    }

    /// <summary>Packs a convolution's weight (O, C, kH, kW) for the products of every image.</summary>
    /// <exception cref="ArgumentException">The weight is not four-dimensional.</exception>
    public static PackedWeight ForConv2d(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 4)
            throw new ArgumentException($"PackedWeight.ForConv2d: weight must be (O, C, kH, kW), got {Shapes.Format(weight.Dims)}.", nameof(weight));
        Tensor copy = weight.Clone();
        int o = copy.Dims[0];
        return new PackedWeight(Layout.Conv2d, copy, null, Convolution.PackWeight(copy.Values, o, o == 0 ? 0 : copy.Numel / o));
    }

    /// <summary>The weight's shape: (out, in) or (O, C, kH, kW).</summary>
    public IReadOnlyList<int> Shape => Values.Shape;

    internal Layout Kind { get; }

    /// <summary>The copied values (shared with <see cref="PackedB"/> for a linear weight).</summary>
    internal Tensor Values { get; }

    /// <summary>A linear weight as op(B) = Wᵀ, packed.</summary>
    internal PackedB? PackedB { get; }

    /// <summary>A convolution's weight as the A of every image's product, packed; null where the packed kernels do not run.</summary>
    internal PackedA? PackedA { get; }
}
