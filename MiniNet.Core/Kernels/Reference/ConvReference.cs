namespace MiniNet.Kernels.Reference;

/// <summary>Direct seven-loop convolution, the specification of <see cref="Ops.Conv2d"/> (which unfolds and multiplies).</summary>
internal static class ConvReference
{
    /// <summary>y[n, o, i, j] = b[o] + Σ_{c,u,v} w[o, c, u, v]·x[n, c, i·s − p + u, j·s − p + v].</summary>
    public static float[] Forward(float[] x, int n, int c, int h, int w, float[] weight, int o, int kh, int kw,
        float[]? bias, int stride, int padding, out int outH, out int outW)
    {
        outH = (h + 2 * padding - kh) / stride + 1;
        outW = (w + 2 * padding - kw) / stride + 1;
        var y = new float[n * o * outH * outW];
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < o; oc++)
                for (int i = 0; i < outH; i++)
                    for (int j = 0; j < outW; j++)
                    {
                        double sum = bias?[oc] ?? 0f;
                        for (int ic = 0; ic < c; ic++)
                            for (int u = 0; u < kh; u++)
                                for (int v = 0; v < kw; v++)
                                {
                                    int yy = i * stride - padding + u, xx = j * stride - padding + v;
                                    if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                                    sum += (double)weight[((oc * c + ic) * kh + u) * kw + v] * x[((b * c + ic) * h + yy) * w + xx];
                                }
                        y[((b * o + oc) * outH + i) * outW + j] = (float)sum;
                    }
        return y;
    }
}
