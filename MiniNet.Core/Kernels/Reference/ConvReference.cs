namespace MiniNet.Kernels.Reference;

/// <summary>Direct seven-loop convolution, the specification of <see cref="Ops.Conv2d(Tensor, Tensor, Tensor?, int, int)"/> (which unfolds and multiplies).</summary>
internal static class ConvReference
{
    /// <summary>y[n, o, i, j] = b[o] + Σ_{c,u,v} w[o, c, u, v]·x[n, c, i·s − p + u, j·s − p + v].</summary>
    public static float[] Forward(float[] x, int n, int c, int h, int w, float[] weight, int o, int kh, int kw,
        float[]? bias, int stride, int padding, out int outH, out int outW) =>
        GeneralForward(x, n, c, h, w, weight, o, kh, kw, bias, stride, stride, padding, padding, padding, padding, 1, 1, 1, out outH, out outW);

    /// <summary>The general convolution (<see cref="GroupedConvolution"/>): y[n, o, i, j] = b[o] + Σ_{c in o's group, u, v}
    /// w[o, c, u, v]·x[n, g·C/G + c, i·sH − pTop + u·dH, j·sW − pLeft + v·dW], zero outside the image.</summary>
    public static float[] GeneralForward(float[] x, int n, int c, int h, int w, float[] weight, int o, int kh, int kw, float[]? bias,
        int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, int dilationH, int dilationW, int groups,
        out int outH, out int outW)
    {
        outH = (h + padTop + padBottom - dilationH * (kh - 1) - 1) / strideH + 1;
        outW = (w + padLeft + padRight - dilationW * (kw - 1) - 1) / strideW + 1;
        int cg = c / groups, og = o / groups;
        var y = new float[n * o * outH * outW];
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < o; oc++)
                for (int i = 0; i < outH; i++)
                    for (int j = 0; j < outW; j++)
                    {
                        double sum = bias?[oc] ?? 0f;
                        for (int ic = 0; ic < cg; ic++)
                            for (int u = 0; u < kh; u++)
                                for (int v = 0; v < kw; v++)
                                {
                                    int yy = i * strideH - padTop + u * dilationH, xx = j * strideW - padLeft + v * dilationW;
                                    if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                                    int channel = oc / og * cg + ic;
                                    sum += (double)weight[((oc * cg + ic) * kh + u) * kw + v] * x[((b * c + channel) * h + yy) * w + xx];
                                }
                        y[((b * o + oc) * outH + i) * outW + j] = (float)sum;
                    }
        return y;
    }
}
