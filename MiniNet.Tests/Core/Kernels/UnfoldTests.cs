using MiniNet.Kernels;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Kernels;

/// <summary>Layout.Im2Col (the "same" stride-1 fast path and the general one) against the definition, element by element.</summary>
[TestFixture]
public class UnfoldTests
{
    [TestCase(3, 14, 14, 3, 1, 1)]   // "same": shifted, masked copies of the plane
    [TestCase(2, 9, 7, 5, 1, 2)]     // "same" 5×5 on rows of 7, a plane that is not a whole number of vectors
    [TestCase(1, 3, 3, 3, 1, 1)]     // "same" on a 9-float plane: one vector and a tail of one
    [TestCase(1, 2, 2, 5, 1, 2)]     // a plane of 4 floats: no whole vector; padding as wide as the image
    [TestCase(2, 1, 7, 3, 1, 1)]     // one row
    [TestCase(1, 1, 1, 3, 1, 1)]     // one pixel: every tap but the centre is masked
    [TestCase(4, 6, 6, 1, 1, 0)]     // 1×1
    [TestCase(2, 9, 8, 3, 2, 1)]     // stride 2: the general path
    [TestCase(2, 7, 6, 3, 1, 0)]     // no padding: the general path
    public void Im2Col_MatchesTheDefinitionBitwise(int c, int h, int w, int k, int stride, int padding)
    {
        int oh = (h + 2 * padding - k) / stride + 1, ow = (w + 2 * padding - k) / stride + 1, plane = oh * ow, rowStride = plane + 5;
        float[] image = TestData.Array(c * h * w, 40);
        image[0] = float.NaN;
        image[^1] = -0f;
        float[] columns = Enumerable.Repeat(7f, c * k * k * rowStride).ToArray();   // the slack between rows stays 7
        foreach (int pass in new[] { 0, 1 })   // twice: the second reuses the per-thread buffers
        {
            Layout.Im2Col(image, c, h, w, k, k, stride, padding, oh, ow, columns, rowStride);
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < k; i++)
                    for (int j = 0; j < k; j++)
                    {
                        int row = (ch * k + i) * k + j;
                        for (int oy = 0; oy < oh; oy++)
                            for (int ox = 0; ox < ow; ox++)
                            {
                                int y = oy * stride - padding + i, x = ox * stride - padding + j;
                                float expected = (uint)y < (uint)h && (uint)x < (uint)w ? image[(ch * h + y) * w + x] : 0f;
                                float actual = columns[row * rowStride + oy * ow + ox];
                                Assert.That(BitConverter.SingleToInt32Bits(actual), Is.EqualTo(BitConverter.SingleToInt32Bits(expected)),
                                    $"pass {pass}, row {row}, ({oy}, {ox})");
                            }
                        for (int s = plane; s < rowStride && row * rowStride + s < columns.Length; s++)
                            Assert.That(columns[row * rowStride + s], Is.EqualTo(7f), $"slack after row {row}");
                    }
        }
    }

    [TestCase(3, 14, 14, 3, 1, 1)]   // 196 positions: 6 panels and 4 columns of a seventh
    [TestCase(2, 9, 7, 5, 1, 2)]
    [TestCase(1, 2, 2, 3, 1, 1)]     // fewer positions than one panel
    [TestCase(2, 40, 60, 3, 1, 1)]   // 2400 positions
    [TestCase(2, 9, 8, 3, 2, 1)]     // stride 2: the general path, row by row
    [TestCase(3, 10, 9, 3, 1, 0)]    // no padding: the general path
    public void Im2ColPacked_PutsEachElementWhereTheProductReadsIt_AndZeroPadsThePanels(int c, int h, int w, int k, int stride, int padding)
    {
        int oh = (h + 2 * padding - k) / stride + 1, ow = (w + 2 * padding - k) / stride + 1;
        int plane = oh * ow, rows = c * k * k, nr = Gemm.PanelWidth, panels = (plane + nr - 1) / nr, kStep = Gemm.KStep(rows);
        float[] image = TestData.Array(c * h * w, 41);
        image[0] = float.NaN;
        PackedB packed = Gemm.PackedWorkspace(1, rows, plane, null);
        Array.Fill(packed.Panels!, 9f);   // every element the unfold owns is overwritten
        Layout.Im2ColPacked(image, c, h, w, k, k, stride, padding, oh, ow, packed);
        float[] buffer = packed.Panels!;
        int start = Gemm.PanelStart(buffer);
        for (int q = 0; q < rows; q++)
        {
            int ch = q / (k * k), i = q / k % k, j = q % k, pc = q / kStep * kStep, kc = Math.Min(kStep, rows - pc);
            for (int pos = 0; pos < panels * nr; pos++)
            {
                int oy = pos / ow, ox = pos % ow, y = oy * stride - padding + i, x = ox * stride - padding + j;
                float expected = pos < plane && (uint)y < (uint)h && (uint)x < (uint)w ? image[(ch * h + y) * w + x] : 0f;
                float actual = buffer[start + pc * panels * nr + pos / nr * nr * kc + (q - pc) * nr + pos % nr];
                Assert.That(BitConverter.SingleToInt32Bits(actual), Is.EqualTo(BitConverter.SingleToInt32Bits(expected)), $"row {q}, position {pos}");
            }
        }
    }

    [TestCase(1)]   // "same": the shifted-plane unfold
    [TestCase(0)]   // the row-by-row unfold
    public void Im2ColPacked_IntoADeepWorkspace_MultipliesBitwiseAsTheUnfoldedColumns(int padding)
    {
        if (!Gemm.PacksB) Assert.Ignore("packed operands need Vector256");
        // 400 output channels and 32·3·3 = 288 rows: the product takes the deep k-blocks (one block of 288).
        const int c = 32, h = 8, w = 8, k = 3, o = 400;
        int oh = h + 2 * padding - k + 1, ow = w + 2 * padding - k + 1, plane = oh * ow, rows = c * k * k;
        float[] image = TestData.Array(c * h * w, 43), weight = TestData.Array(o * rows, 44);
        float[] columns = new float[rows * plane], expected = new float[o * plane], actual = new float[o * plane];
        Layout.Im2Col(image, c, h, w, k, k, 1, padding, oh, ow, columns, plane);
        Gemm.Multiply(false, false, o, plane, rows, weight, rows, columns, plane, expected, plane, false);
        PackedA packedWeight = Gemm.PackA(false, o, rows, weight, rows, reuse: null);
        PackedB workspace = Gemm.PackedWorkspace(o, rows, plane, null);
        Assert.That(workspace.Deep && Gemm.IsDeep(o, rows), "the case is meant to take the deep blocking");
        Layout.Im2ColPacked(image, c, h, w, k, k, 1, padding, oh, ow, workspace);
        Gemm.Multiply(packedWeight, workspace, actual, plane, false, default);
        Assert.That(actual, Is.EqualTo(expected));
    }
}
