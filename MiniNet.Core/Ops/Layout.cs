using System.Numerics.Tensors;
using MiniNet.Kernels;

namespace MiniNet;

public static partial class Ops
{
    /// <summary>The same elements under a new shape; one dimension may be −1 (inferred). Shares storage: no copy. Works
    /// for every <see cref="DType"/>.</summary>
    /// <exception cref="ArgumentException">The element counts differ, or more than one −1.</exception>
    public static Tensor Reshape(this Tensor x, params int[] shape)
    {
        int[] resolved = ResolveShape(x, shape);
        if (x.DType != DType.Float32) return x.ShareElements(resolved);
        Tensor y = Tensor.View(x, resolved);
        return Autograd.Record(y, "reshape", [x], dy =>
        {
            if (x.RequiresGrad) Autograd.GradTarget(x).Add(dy.Values);
        });
    }

    /// <summary>Merges dimensions <paramref name="startDim"/>..<paramref name="endDim"/> into one (like <c>torch.flatten</c>). Composite.</summary>
    public static Tensor Flatten(this Tensor x, int startDim = 0, int endDim = -1)
    {
        if (x.Rank == 0) return x.Reshape(1);
        int s = Shapes.NormalizeAxis(startDim, x.Rank, "Flatten"), e = Shapes.NormalizeAxis(endDim, x.Rank, "Flatten");
        if (s > e) throw new ArgumentException($"Flatten: startDim {startDim} comes after endDim {endDim} for shape {Shapes.Format(x.Dims)}.", nameof(startDim));
        int merged = 1;
        for (int d = s; d <= e; d++) merged *= x.Dims[d];
        return x.Reshape([.. x.Dims[..s], merged, .. x.Dims[(e + 1)..]]);
    }

    /// <summary>Reorders dimensions: output dimension i is input dimension dims[i]. Copies into contiguous storage.</summary>
    /// <exception cref="ArgumentException"><paramref name="dims"/> is not a permutation of 0..rank−1.</exception>
    public static Tensor Permute(this Tensor x, params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length != x.Rank)
            throw new ArgumentException($"Permute: {dims.Length} dims given for a tensor of shape {Shapes.Format(x.Dims)}.", nameof(dims));
        int[] perm = new int[dims.Length], inverse = new int[dims.Length];
        var seen = new bool[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            int d = Shapes.NormalizeAxis(dims[i], x.Rank, "Permute");
            if (seen[d]) throw new ArgumentException($"Permute: ({string.Join(", ", dims)}) repeats dimension {d}.", nameof(dims));
            seen[d] = true;
            perm[i] = d;
            inverse[d] = i;
        }
        Tensor y = Tensor.Allocate(PermuteShape(x.Dims, perm));
        Layout.Permute(x.Values, x.Dims, perm, y.Values);
        return Autograd.Record(y, "permute", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            float[] back = BufferPool.Rent(dy.Numel);
            Layout.Permute(dy.Values, y.Dims, inverse, back);
            Autograd.GradTarget(x).Add(back.AsSpan(0, dy.Numel));
            BufferPool.Return(back);
        });
    }

    /// <summary>Swaps two dimensions. Composite: a <see cref="Permute"/>.</summary>
    public static Tensor Transpose(this Tensor x, int dim0, int dim1)
    {
        int a = Shapes.NormalizeAxis(dim0, x.Rank, "Transpose"), b = Shapes.NormalizeAxis(dim1, x.Rank, "Transpose");
        int[] perm = new int[x.Rank];
        for (int i = 0; i < perm.Length; i++) perm[i] = i;
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return x.Permute(perm);
    }

    /// <summary>Transpose of a 2-D tensor. Composite.</summary>
    public static Tensor T(this Tensor x)
    {
        if (x.Rank != 2) throw new ArgumentException($"T: expects a 2-D tensor, got shape {Shapes.Format(x.Dims)}.", nameof(x));
        return x.Transpose(0, 1);
    }

    private static int[] PermuteShape(int[] shape, int[] perm)
    {
        var result = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) result[i] = shape[perm[i]];
        return result;
    }

    private static int[] ResolveShape(Tensor x, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        int[] resolved = (int[])shape.Clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < resolved.Length; i++)
        {
            if (resolved[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"Reshape: shape {Shapes.Format(shape)} has more than one -1.", nameof(shape));
                infer = i;
            }
            else if (resolved[i] < 0) throw new ArgumentException($"Reshape: shape {Shapes.Format(shape)} has a negative dimension.", nameof(shape));
            else known *= resolved[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || x.Numel % known != 0)
                throw new ArgumentException($"Reshape: cannot infer -1 in {Shapes.Format(shape)} for {x.Numel} elements of shape {Shapes.Format(x.Dims)}.", nameof(shape));
            resolved[infer] = (int)(x.Numel / known);
            known *= resolved[infer];
        }
        if (known != x.Numel)
            throw new ArgumentException($"Reshape: shape {Shapes.Format(x.Dims)} ({x.Numel} elements) cannot become {Shapes.Format(shape)} ({known} elements).", nameof(shape));
        return resolved;
    }
}
