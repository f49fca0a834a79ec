using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;   // NOTE: importing the whole namespace would make "Tensor" ambiguous
using MiniNet;

namespace CustomLayer;

/// <summary>A new op written entirely in user code: Swish (SiLU), y = x·σ(x).</summary>
public static class SwishOp
{
    /// <summary>y = x·σ(x), with dy/dx = σ(x)·(1 + x·(1 − σ(x))).</summary>
    public static Tensor Swish(this Tensor x)
    {
        // Forward: compute σ(x) once and keep it; backward needs it.
        float[] sigmoid = new float[x.Numel];
        TensorPrimitives.Sigmoid(x.Data, sigmoid);
        Tensor y = Tensor.Empty([.. x.Shape]);   // every element is written below; pooled inside a TensorScope
        TensorPrimitives.Multiply(x.Data, sigmoid, y.Data);

        // Record the op. Its backward asks the engine where x's gradient goes (Autograd.GradTarget), and only if x needs one.
        return Autograd.Record(y, "swish", [x], dy =>
        {
            if (!x.RequiresGrad) return;
            GradientTarget target = Autograd.GradTarget(x);
            Span<float> dx = target.Data;
            ReadOnlySpan<float> g = dy.Data, input = x.Data;
            for (int i = 0; i < dx.Length; i++)
            {
                float d = g[i] * sigmoid[i] * (1f + input[i] * (1f - sigmoid[i]));
                dx[i] = target.Accumulate ? dx[i] + d : d;   // add to a sum already there, or write a fresh buffer outright
            }
        });
    }
}
