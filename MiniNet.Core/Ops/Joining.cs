using System.Numerics.Tensors;
using MiniNet.Kernels;

namespace MiniNet;

// Joining, slicing and reshaping along an axis. Storage is contiguous and row-major, so an axis splits a tensor into
// (outer, length, inner): a slice or a join along it moves `outer` blocks of `length·inner` elements, whatever the
// element type. Cat, Stack, Narrow, Split, Chunk, Unsqueeze and Squeeze work on every DType (gradients for float32);
// Expand and Repeat compute in float32.
public static partial class Ops
{
    /// <summary>Joins tensors along <paramref name="axis"/> (PyTorch's <c>torch.cat</c>): every other dimension must
    /// agree, and so must the types. The gradient is split back into the pieces.</summary>
    /// <exception cref="ArgumentException">No tensors, or shapes or types that differ off the axis.</exception>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException("Cat: needs at least one tensor.", nameof(tensors));
        Tensor first = tensors[0] ?? throw new ArgumentNullException(nameof(tensors), "Cat: tensor 0 is null.");
        if (first.Rank == 0) throw new ArgumentException("Cat: cannot join rank-0 tensors; Stack them instead.", nameof(tensors));
        int a = Shapes.NormalizeAxis(axis, first.Rank, "Cat");
        int[] offsets = new int[tensors.Count + 1];
        for (int t = 0; t < tensors.Count; t++)
        {
            Tensor piece = tensors[t] ?? throw new ArgumentNullException(nameof(tensors), $"Cat: tensor {t} is null.");
            if (piece.DType != first.DType)
                throw new ArgumentException($"Cat: tensor {t} holds {piece.DType} values, tensor 0 {first.DType}.", nameof(tensors));
            bool fits = piece.Rank == first.Rank;
            for (int d = 0; fits && d < first.Rank; d++) fits = d == a || piece.Dims[d] == first.Dims[d];
            if (!fits)
                throw new ArgumentException(
                    $"Cat: tensor {t} of shape {Shapes.Format(piece.Dims)} does not match tensor 0 of shape {Shapes.Format(first.Dims)} off axis {axis}.",
                    nameof(tensors));
            offsets[t + 1] = checked(offsets[t] + piece.Dims[a]);
        }
        int[] shape = (int[])first.Dims.Clone();
        shape[a] = offsets[^1];
        Shapes.Validate(shape, "Cat");
        (int outer, _, int inner) = AroundAxis(shape, a);
        Tensor y = Tensor.AllocateOf(first.DType, shape);
        Array destination = y.Elements;
        for (int t = 0; t < tensors.Count; t++)
            CopyBlocks(tensors[t].Elements, 0, tensors[t].Dims[a] * inner, destination, offsets[t] * inner, shape[a] * inner, outer);
        if (first.DType != DType.Float32) return y;
        Tensor[] inputs = [.. tensors];
        return Autograd.Record(y, "cat", inputs, dy =>
        {
            for (int t = 0; t < inputs.Length; t++)
                if (inputs[t].RequiresGrad)
                    AddBlocks(dy.Values, offsets[t] * inner, shape[a] * inner, Autograd.GradTarget(inputs[t]), 0, inputs[t].Dims[a] * inner, outer);
        });
    }

    /// <summary>Joins tensors of one shape along a new axis (PyTorch's <c>torch.stack</c>): rank-r inputs give a rank
    /// r + 1 result, <paramref name="axis"/> in [−(r + 1), r]. Composite: <see cref="Unsqueeze"/> then <see cref="Cat"/>.</summary>
    /// <exception cref="ArgumentException">No tensors, or tensors whose shapes differ.</exception>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException("Stack: needs at least one tensor.", nameof(tensors));
        Tensor first = tensors[0] ?? throw new ArgumentNullException(nameof(tensors), "Stack: tensor 0 is null.");
        int a = Shapes.NormalizeAxis(axis, first.Rank + 1, "Stack");
        var pieces = new Tensor[tensors.Count];
        for (int t = 0; t < pieces.Length; t++)
        {
            Tensor piece = tensors[t] ?? throw new ArgumentNullException(nameof(tensors), $"Stack: tensor {t} is null.");
            if (!Shapes.Equal(piece.Dims, first.Dims))
                throw new ArgumentException(
                    $"Stack: tensor {t} has shape {Shapes.Format(piece.Dims)}, tensor 0 {Shapes.Format(first.Dims)}; stacked tensors share one shape.",
                    nameof(tensors));
            pieces[t] = piece.Unsqueeze(a);
        }
        return Cat(pieces, a);
    }

    /// <summary>The elements <paramref name="start"/> .. <paramref name="start"/> + <paramref name="length"/> − 1 along
    /// <paramref name="axis"/> (PyTorch's <c>narrow</c>, or <c>x[:, start:start+length]</c> on axis 1); a negative
    /// start counts from the end. A copy (storage is always contiguous); the gradient flows into the slice.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The slice leaves the axis.</exception>
    public static Tensor Narrow(this Tensor x, int axis, int start, int length)
    {
        ArgumentNullException.ThrowIfNull(x);
        int a = Shapes.NormalizeAxis(axis, x.Rank, "Narrow");
        int size = x.Dims[a];
        int s = start < 0 ? start + size : start;
        if (s < 0 || s > size)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"Narrow: start {start} is outside axis {axis} of shape {Shapes.Format(x.Dims)}.");
        if (length < 0 || length > size - s)
            throw new ArgumentOutOfRangeException(nameof(length), length,
                $"Narrow: {length} elements from {s} do not fit axis {axis} of shape {Shapes.Format(x.Dims)} (size {size}).");
        int[] shape = (int[])x.Dims.Clone();
        shape[a] = length;
        (int outer, _, int inner) = AroundAxis(x.Dims, a);
        Tensor y = Tensor.AllocateOf(x.DType, shape);
        CopyBlocks(x.Elements, s * inner, size * inner, y.Elements, 0, length * inner, outer);
        if (x.DType != DType.Float32) return y;
        return Autograd.Record(y, "narrow", [x], dy =>
        {
            if (x.RequiresGrad) AddBlocks(dy.Values, 0, length * inner, Autograd.GradTarget(x), s * inner, size * inner, outer);
        });
    }

    /// <summary>Splits into pieces of <paramref name="splitSize"/> along <paramref name="axis"/>, the last one smaller
    /// when the size does not divide (PyTorch's <c>split</c> with an int).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="splitSize"/> is not positive.</exception>
    public static Tensor[] Split(this Tensor x, int splitSize, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (splitSize <= 0) throw new ArgumentOutOfRangeException(nameof(splitSize), splitSize, "Split: splitSize must be positive.");
        int size = x.Dims[Shapes.NormalizeAxis(axis, x.Rank, "Split")];
        var sizes = new int[Math.Max(1, (size + splitSize - 1) / splitSize)];
        for (int i = 0; i < sizes.Length; i++) sizes[i] = Math.Min(splitSize, size - i * splitSize);
        return x.Split(sizes, axis);
    }

    /// <summary>Splits into pieces of the given sizes along <paramref name="axis"/>; they must add up to its size
    /// (PyTorch's <c>split</c> with a list).</summary>
    /// <exception cref="ArgumentException">The sizes are negative or do not add up to the axis's size.</exception>
    public static Tensor[] Split(this Tensor x, int[] sizes, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(sizes);
        int size = x.Dims[Shapes.NormalizeAxis(axis, x.Rank, "Split")];
        long total = 0;
        foreach (int s in sizes)
        {
            if (s < 0) throw new ArgumentException($"Split: sizes {Shapes.Format(sizes)} include a negative size.", nameof(sizes));
            total += s;
        }
        if (total != size)
            throw new ArgumentException(
                $"Split: sizes {Shapes.Format(sizes)} add up to {total}, but axis {axis} of shape {Shapes.Format(x.Dims)} has {size}.", nameof(sizes));
        var pieces = new Tensor[sizes.Length];
        for (int i = 0, start = 0; i < sizes.Length; start += sizes[i], i++) pieces[i] = x.Narrow(axis, start, sizes[i]);
        return pieces;
    }

    /// <summary>Splits into at most <paramref name="chunks"/> pieces of ⌈size / chunks⌉ along <paramref name="axis"/>
    /// (the last smaller; fewer pieces when that size covers the axis sooner; <paramref name="chunks"/> empty pieces of
    /// an empty axis), as PyTorch's <c>chunk</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunks"/> is not positive.</exception>
    public static Tensor[] Chunk(this Tensor x, int chunks, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (chunks <= 0) throw new ArgumentOutOfRangeException(nameof(chunks), chunks, "Chunk: chunks must be positive.");
        int size = x.Dims[Shapes.NormalizeAxis(axis, x.Rank, "Chunk")];
        // An empty axis gives `chunks` empty pieces, as PyTorch's chunk does.
        if (size == 0) return x.Split(new int[chunks], axis);
        return x.Split((size + chunks - 1) / chunks, axis);
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="axis"/>, in [−(rank + 1), rank]. A view, like Reshape.</summary>
    public static Tensor Unsqueeze(this Tensor x, int axis)
    {
        ArgumentNullException.ThrowIfNull(x);
        int a = Shapes.NormalizeAxis(axis, x.Rank + 1, "Unsqueeze");
        return x.Reshape([.. x.Dims[..a], 1, .. x.Dims[a..]]);
    }

    /// <summary>Removes every dimension of size 1. A view, like Reshape.</summary>
    public static Tensor Squeeze(this Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        return x.Reshape(x.Dims.Where(d => d != 1).ToArray());
    }

    /// <summary>Removes dimension <paramref name="axis"/> when its size is 1, and leaves the tensor as it is otherwise
    /// (as PyTorch's <c>squeeze(dim)</c>). A view, like Reshape.</summary>
    public static Tensor Squeeze(this Tensor x, int axis)
    {
        ArgumentNullException.ThrowIfNull(x);
        int a = Shapes.NormalizeAxis(axis, x.Rank, "Squeeze");
        return x.Dims[a] != 1 ? x.Reshape(x.Dims) : x.Reshape([.. x.Dims[..a], .. x.Dims[(a + 1)..]]);
    }

    /// <summary>Broadcasts to <paramref name="shape"/> (PyTorch's <c>expand</c>): dimensions of size 1 stretch, new ones
    /// may lead, and −1 keeps a size. A copy (storage is contiguous); the gradient is summed back over the stretched
    /// dimensions.</summary>
    /// <exception cref="ArgumentException">A dimension that is not 1 would change, or the new shape has fewer dimensions.</exception>
    public static Tensor Expand(this Tensor x, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length < x.Rank)
            throw new ArgumentException($"Expand: shape {Shapes.Format(shape)} has fewer dimensions than {Shapes.Format(x.Dims)}.", nameof(shape));
        int lead = shape.Length - x.Rank;
        int[] target = new int[shape.Length];
        for (int d = 0; d < shape.Length; d++)
        {
            int own = d < lead ? -1 : x.Dims[d - lead];
            int wanted = shape[d];
            if (wanted == -1 && own >= 0) wanted = own;
            bool valid = wanted >= 0 && (own < 0 || own == wanted || own == 1);
            if (!valid)
                throw new ArgumentException(
                    $"Expand: shape {Shapes.Format(x.Dims)} cannot be expanded to {Shapes.Format(shape)} (dimension {d}).", nameof(shape));
            target[d] = wanted;
        }
        Shapes.Validate(target, "Expand");
        int[] strides = Shapes.BroadcastStrides(x.Dims, target);
        Tensor y = Tensor.Allocate(target);
        y.Values.Clear();
        Broadcasting.AddBroadcast(x.Values, strides, target, y.Values);
        return Autograd.Record(y, "expand", [x], dy =>
        {
            if (x.RequiresGrad) Broadcasting.SumTo(dy.Values, target, strides, Autograd.GradTarget(x).ForAdding());
        });
    }

    /// <summary>Tiles the tensor <paramref name="repeats"/>[d] times along each dimension d (PyTorch's <c>repeat</c>;
    /// extra leading repeats add dimensions). Composite: Reshape, <see cref="Expand"/>, Reshape.</summary>
    /// <exception cref="ArgumentException">Fewer repeats than dimensions, or a negative repeat.</exception>
    public static Tensor Repeat(this Tensor x, params int[] repeats)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(repeats);
        if (repeats.Length < x.Rank)
            throw new ArgumentException($"Repeat: {repeats.Length} repeats for a tensor of shape {Shapes.Format(x.Dims)}; give one per dimension.", nameof(repeats));
        if (repeats.Any(r => r < 0))
            throw new ArgumentException($"Repeat: repeats {Shapes.Format(repeats)} include a negative count.", nameof(repeats));
        int lead = repeats.Length - x.Rank;
        int[] interleaved = new int[2 * repeats.Length], expanded = new int[2 * repeats.Length], result = new int[repeats.Length];
        for (int d = 0; d < repeats.Length; d++)
        {
            int size = d < lead ? 1 : x.Dims[d - lead];
            (interleaved[2 * d], interleaved[2 * d + 1]) = (1, size);
            (expanded[2 * d], expanded[2 * d + 1]) = (repeats[d], size);
            result[d] = checked(repeats[d] * size);
        }
        Shapes.Validate(result, "Repeat");
        return x.Reshape(interleaved).Expand(expanded).Reshape(result);
    }

    /// <summary>Copies <paramref name="blocks"/> runs of min(sourceStride, destinationStride) elements, the b-th from
    /// source[sourceStart + b·sourceStride] to destination[destinationStart + b·destinationStride].</summary>
    private static void CopyBlocks(Array source, int sourceStart, int sourceStride, Array destination, int destinationStart,
        int destinationStride, int blocks)
    {
        int length = Math.Min(sourceStride, destinationStride);
        if (length == 0) return;
        for (int b = 0; b < blocks; b++)
            Array.Copy(source, sourceStart + b * sourceStride, destination, destinationStart + b * destinationStride, length);
    }

    /// <summary>The backward of <see cref="CopyBlocks"/>: adds each block of the gradient into the input's target.</summary>
    private static void AddBlocks(ReadOnlySpan<float> gradient, int gradientStart, int gradientStride, GradientTarget target,
        int targetStart, int targetStride, int blocks)
    {
        int length = Math.Min(gradientStride, targetStride);
        Span<float> dx = target.ForAdding();
        if (length == 0) return;
        for (int b = 0; b < blocks; b++)
        {
            Span<float> into = dx.Slice(targetStart + b * targetStride, length);
            TensorPrimitives.Add(into, gradient.Slice(gradientStart + b * gradientStride, length), into);
        }
    }
}
