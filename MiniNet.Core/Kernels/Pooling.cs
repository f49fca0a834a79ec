namespace MiniNet.Kernels;

/// <summary>The planes [First, Last) of a pooling problem and its window geometry.</summary>
internal readonly record struct PoolWindow(int H, int W, int Kernel, int Stride, int Padding, int OutH, int OutW, int First, int Last);

// Max and average pooling over (N·C) planes, a contiguous range of planes per call (one range per thread).
// Windows are clipped to the image; the clipped part counts as −∞ for max and as 0 for the average, whose
// divisor is always kernel² (PyTorch's count_include_pad). Reference twin: Kernels/Reference/PoolingReference.cs.
internal static class Pooling
{
    /// <summary>y = window max; argmax receives the flat input index of each winner.</summary>
    public static void MaxForward(float[] x, PoolWindow p, float[] y, int[] argmax)
    {
        int inPlane = p.H * p.W, outPlane = p.OutH * p.OutW;
        for (int plane = p.First; plane < p.Last; plane++)
        {
            int inBase = plane * inPlane, outBase = plane * outPlane;
            for (int oy = 0; oy < p.OutH; oy++)
            {
                int y0 = Math.Max(oy * p.Stride - p.Padding, 0), y1 = Math.Min(oy * p.Stride - p.Padding + p.Kernel, p.H);
                for (int ox = 0; ox < p.OutW; ox++)
                {
                    int x0 = Math.Max(ox * p.Stride - p.Padding, 0), x1 = Math.Min(ox * p.Stride - p.Padding + p.Kernel, p.W);
                    int best = inBase + y0 * p.W + x0;
                    float bestValue = x[best];
                    for (int yy = y0; yy < y1; yy++)
                        for (int xx = x0; xx < x1; xx++)
                        {
                            int idx = inBase + yy * p.W + xx;
                            if (x[idx] > bestValue || (float.IsNaN(x[idx]) && !float.IsNaN(bestValue))) { bestValue = x[idx]; best = idx; }
                        }
                    y[outBase + oy * p.OutW + ox] = bestValue;
                    argmax[outBase + oy * p.OutW + ox] = best;
                }
            }
        }
    }

    /// <summary>y = window sum / kernel².</summary>
    public static void AvgForward(float[] x, PoolWindow p, float[] y)
    {
        int inPlane = p.H * p.W, outPlane = p.OutH * p.OutW;
        float scale = 1f / (p.Kernel * p.Kernel);
        for (int plane = p.First; plane < p.Last; plane++)
        {
            int inBase = plane * inPlane, outBase = plane * outPlane;
            for (int oy = 0; oy < p.OutH; oy++)
            {
                int y0 = Math.Max(oy * p.Stride - p.Padding, 0), y1 = Math.Min(oy * p.Stride - p.Padding + p.Kernel, p.H);
                for (int ox = 0; ox < p.OutW; ox++)
                {
                    int x0 = Math.Max(ox * p.Stride - p.Padding, 0), x1 = Math.Min(ox * p.Stride - p.Padding + p.Kernel, p.W);
                    float sum = 0f;
                    for (int yy = y0; yy < y1; yy++)
                        for (int xx = x0; xx < x1; xx++) sum += x[inBase + yy * p.W + xx];
                    y[outBase + oy * p.OutW + ox] = sum * scale;
                }
            }
        }
    }

    /// <summary>dx += dy / kernel² over each window.</summary>
    public static void AvgBackward(float[] dy, PoolWindow p, float[] dx)
    {
        int inPlane = p.H * p.W, outPlane = p.OutH * p.OutW;
        float scale = 1f / (p.Kernel * p.Kernel);
        for (int plane = p.First; plane < p.Last; plane++)
        {
            int inBase = plane * inPlane, outBase = plane * outPlane;
            for (int oy = 0; oy < p.OutH; oy++)
            {
                int y0 = Math.Max(oy * p.Stride - p.Padding, 0), y1 = Math.Min(oy * p.Stride - p.Padding + p.Kernel, p.H);
                for (int ox = 0; ox < p.OutW; ox++)
                {
                    int x0 = Math.Max(ox * p.Stride - p.Padding, 0), x1 = Math.Min(ox * p.Stride - p.Padding + p.Kernel, p.W);
                    float g = dy[outBase + oy * p.OutW + ox] * scale;
                    for (int yy = y0; yy < y1; yy++)
                        for (int xx = x0; xx < x1; xx++) dx[inBase + yy * p.W + xx] += g;
                }
            }
        }
    }
}
