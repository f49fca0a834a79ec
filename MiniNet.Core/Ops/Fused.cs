using MiniNet.Kernels;

namespace MiniNet;

/// <summary>Fused in-place updates for optimizers (no autograd): one memory pass where the plain formula takes several.</summary>
public static class Fused
{
    /// <summary>SGD with momentum after its first step, in place: v ← μ·v + (1 − dampening)·g; p ← p − lr·v.</summary>
    /// <exception cref="ArgumentException">The three tensors differ in element count.</exception>
    public static void SgdMomentum(Tensor parameter, Tensor grad, Tensor velocity, float lr, float momentum, float dampening)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ArgumentNullException.ThrowIfNull(grad);
        ArgumentNullException.ThrowIfNull(velocity);
        if (grad.Numel != parameter.Numel || velocity.Numel != parameter.Numel)
            throw new ArgumentException(
                $"Fused.SgdMomentum: parameter {Shapes.Format(parameter.Shape)}, gradient {Shapes.Format(grad.Shape)} and velocity {Shapes.Format(velocity.Shape)} differ in size.");
        OptimizerKernels.SgdMomentum(parameter.Storage, grad.Storage, velocity.Storage, parameter.Numel, lr, momentum, dampening);
    }
}
