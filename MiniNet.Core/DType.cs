namespace MiniNet;

/// <summary>The type of a tensor's elements.</summary>
/// <remarks>Float32 is the compute type: every op with a gradient takes and gives float32 tensors. Int64 and Bool
/// tensors hold indices, counts, labels and masks; they are stored, indexed, compared, converted, and saved in
/// safetensors as I64 and BOOL.</remarks>
public enum DType
{
    /// <summary>32-bit floating point (safetensors F32).</summary>
    Float32,
    /// <summary>64-bit signed integer (safetensors I64).</summary>
    Int64,
    /// <summary>Boolean, one byte each (safetensors BOOL).</summary>
    Bool,
}
