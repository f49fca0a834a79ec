namespace MiniNet.Kernels.Reference;

/// <summary>Window-by-window twins of <see cref="Pooling"/> over padded coordinates.</summary>
internal static class PoolingReference
{
    /// <summary>Max (or average, divided by kernel²) over each window of every (N·C) plane; padding never wins a max and adds 0 to a sum.</summary>
    public static float[] Forward(float[] x, int planes, int h, int w, int kernel, int stride, int padding, bool max)
    {
        int outH = (h + 2 * padding - kernel) / stride + 1, outW = (w + 2 * padding - kernel) / stride + 1;
        var y = new float[planes * outH * outW];
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < outH; i++)
                for (int j = 0; j < outW; j++)
                {
                    float best = float.NegativeInfinity, sum = 0f;
                    for (int u = 0; u < kernel; u++)
                        for (int v = 0; v < kernel; v++)
                        {
                            int yy = i * stride - padding + u, xx = j * stride - padding + v;
                            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                            float value = x[(p * h + yy) * w + xx];
                            best = Math.Max(best, value);
                            sum += value;
                        }
                    y[(p * outH + i) * outW + j] = max ? best : sum / (kernel * kernel);
                }
        return y;
    }
}
