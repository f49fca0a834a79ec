namespace MiniNet.Kernels.Reference;

/// <summary>Index-by-index twins of <see cref="Layout"/>.</summary>
internal static class LayoutReference
{
    /// <summary>For each output index, decompose it into coordinates and read the input at the permuted coordinates.</summary>
    public static void Permute(float[] source, int[] shape, int[] perm, float[] destination)
    {
        int rank = shape.Length;
        int[] inStrides = Shapes.Strides(shape);
        int[] outShape = new int[rank];
        for (int i = 0; i < rank; i++) outShape[i] = shape[perm[i]];
        for (int flat = 0; flat < destination.Length; flat++)
        {
            int rest = flat, offset = 0;
            for (int d = rank - 1; d >= 0; d--)
            {
                offset += rest % outShape[d] * inStrides[perm[d]];
                rest /= outShape[d];
            }
            destination[flat] = source[offset];
        }
    }
}
