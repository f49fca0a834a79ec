namespace MiniNet;

/// <summary>An activation applied as part of a fused op (<see cref="Ops.LinearAffine(Tensor, Tensor, Tensor?, ReadOnlySpan{float}, ReadOnlySpan{float}, FusedActivation)"/>,
/// <see cref="Ops.Conv2dAffine(Tensor, Tensor, Tensor?, ReadOnlySpan{float}, ReadOnlySpan{float}, FusedActivation, int, int)"/>),
/// by the matrix-multiply kernels as they write each tile of the output.</summary>
/// <remarks>A vocabulary type of the whole library: the kernels, the ops and the fusion planner all speak it.</remarks>
public enum FusedActivation
{
    /// <summary>None: y is the affine map itself.</summary>
    None,
    /// <summary>max(·, 0).</summary>
    Relu,
    /// <summary>1 / (1 + e^(−·)).</summary>
    Sigmoid,
}
