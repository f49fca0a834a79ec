using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core;

[TestFixture]
public class GradCheckTests
{
    /// <summary>A user-defined op, y = x³, with a backward that is right or deliberately wrong.</summary>
    private static Tensor Cube(Tensor x, float slopeFactor)
    {
        Tensor y = Tensor.FromArray(x.ToArray().Select(v => v * v * v).ToArray(), [.. x.Shape]);
        return MiniNet.Autograd.Record(y, "cube", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            for (int i = 0; i < x.Numel; i++) x.Grad!.Data[i] += dy.Data[i] * slopeFactor * x.Data[i] * x.Data[i];
        });
    }

    [Test]
    public void Check_CorrectUserOp_Passes()
    {
        GradCheckResult result = GradCheck.Check(v => Cube(v[0], 3f), [TestData.Uniform([3, 4], 1)]);
        Assert.That(result.Passed, Is.True, result.Message);
        Assert.That(result.Elements, Is.EqualTo(12));
        Assert.DoesNotThrow(result.ThrowIfFailed);
    }

    [Test]
    public void Check_WrongBackward_FailsAndNamesTheElement()
    {
        GradCheckResult result = GradCheck.Check(v => Cube(v[0], 2f), [TestData.Uniform([3, 4], 1)]);
        Assert.That(result.Passed, Is.False);
        Assert.That(result.Message, Does.Contain("input 0 (3, 4)"));
        Assert.Throws<InvalidOperationException>(result.ThrowIfFailed);
    }

    [Test]
    public void Check_TransposedGradient_IsCaughtByTheRandomProjection()
    {
        // A backward that sends each gradient to the mirrored element: a plain Sum() loss would not notice.
        static Tensor Scale(Tensor x)
        {
            Tensor y = x.Detach().Clone();
            TensorPrimitivesScale(y, 2f);
            return MiniNet.Autograd.Record(y, "bad_scale", [x], dy =>
            {
                int n = x.Numel;
                for (int i = 0; i < n; i++) x.Grad!.Data[i] += 2f * dy.Data[n - 1 - i];
            });
        }
        Assert.That(GradCheck.Check(v => Scale(v[0]), [TestData.Uniform([5], 2)]).Passed, Is.False);
    }

    [Test]
    public void Check_DoesNotModifyCallerInputs()
    {
        Tensor x = TestData.Uniform([4], 3);
        float[] before = x.ToArray();
        GradCheck.Check(v => v[0].Exp(), [x]);
        Assert.That(x.ToArray(), Is.EqualTo(before));
        Assert.That(x.Grad, Is.Null);
    }

    private static void TensorPrimitivesScale(Tensor t, float s)
    {
        for (int i = 0; i < t.Numel; i++) t.Data[i] *= s;
    }
}
