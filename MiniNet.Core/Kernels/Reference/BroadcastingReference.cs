namespace MiniNet.Kernels.Reference;

/// <summary>Element-by-element twins of <see cref="Broadcasting"/>: every output index is decomposed into its coordinates.</summary>
internal static class BroadcastingReference
{
    /// <summary>destination[i] = f(a[a-offset(i)], b[b-offset(i)]).</summary>
    public static void Binary(float[] a, int[] aStrides, float[] b, int[] bStrides, int[] outShape, float[] destination,
        Func<float, float, float> f)
    {
        for (int i = 0; i < destination.Length; i++)
            destination[i] = f(a[Offset(i, outShape, aStrides)], b[Offset(i, outShape, bStrides)]);
    }

    /// <summary>destination[offset(i)] += source[i].</summary>
    public static void SumTo(float[] source, int[] sourceShape, int[] destinationStrides, float[] destination)
    {
        for (int i = 0; i < source.Length; i++)
            destination[Offset(i, sourceShape, destinationStrides)] += source[i];
    }

    private static int Offset(int flat, int[] shape, int[] strides)
    {
        int offset = 0;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            offset += flat % shape[d] * strides[d];
            flat /= shape[d];
        }
        return offset;
    }
}
