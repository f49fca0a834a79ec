using MiniNet.Kernels;
using MiniNet.Kernels.Reference;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.Kernels;

[TestFixture]
public class BroadcastingTests
{
    private static readonly object[] Pairs =
    [
        new object[] { new[] { 4, 1, 3 }, new[] { 5, 1 } },
        new object[] { new[] { 2, 3, 4, 5 }, new[] { 3, 1, 1 } },
        new object[] { new[] { 1, 6 }, new[] { 7, 1 } },
        new object[] { new[] { 3, 1, 1, 2 }, new[] { 1, 4, 5, 1 } },
        new object[] { new[] { 64 }, new[] { 1 } },
    ];

    [TestCaseSource(nameof(Pairs))]
    public void Binary_MatchesIndexReference(int[] shapeA, int[] shapeB)
    {
        int[] outShape = MiniNet.Shapes.Broadcast(shapeA, shapeB, "test");
        int[] sa = MiniNet.Shapes.BroadcastStrides(shapeA, outShape), sb = MiniNet.Shapes.BroadcastStrides(shapeB, outShape);
        float[] a = TestData.Array(MiniNet.Shapes.Numel(shapeA), 1), b = TestData.Array(MiniNet.Shapes.Numel(shapeB), 2);
        float[] fast = new float[MiniNet.Shapes.Numel(outShape)], slow = new float[fast.Length];
        Broadcasting.Binary<SubtractRows>(a, sa, b, sb, outShape, fast);
        BroadcastingReference.Binary(a, sa, b, sb, outShape, slow, (x, y) => x - y);
        Assert.That(fast, Is.EqualTo(slow));
    }

    [TestCaseSource(nameof(Pairs))]
    public void SumTo_MatchesIndexReference(int[] shapeA, int[] shapeB)
    {
        int[] outShape = MiniNet.Shapes.Broadcast(shapeA, shapeB, "test");
        int[] sb = MiniNet.Shapes.BroadcastStrides(shapeB, outShape);
        float[] source = TestData.Array(MiniNet.Shapes.Numel(outShape), 3);
        float[] fast = TestData.Array(MiniNet.Shapes.Numel(shapeB), 4), slow = (float[])fast.Clone();
        Broadcasting.SumTo(source, outShape, sb, fast);
        BroadcastingReference.SumTo(source, outShape, sb, slow);
        TensorAssert.Close(fast, slow, atol: 1e-5f);
    }
}
