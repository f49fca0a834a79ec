using System.Globalization;
using Microsoft.Extensions.Logging;

namespace MiniNet;

/// <summary>Rules for copying a checkpoint's tensors into a model's or an optimizer's, shared by every
/// <c>LoadStateDict</c>: the shapes must match, and a value of another type must convert exactly.</summary>
public static class StateDicts
{
    /// <summary>Why <paramref name="source"/> (from a checkpoint) cannot be loaded into <paramref name="target"/>, or null
    /// when it can. A float32 value loads into an int64 tensor only when it is a whole number (older checkpoints stored
    /// counters such as <c>num_batches_tracked</c> as F32); an int64 value loads into a float32 tensor, with a warning
    /// (<see cref="MiniNetLogging"/>) naming the key when it is too large to be exact there; bool converts to nothing
    /// else.</summary>
    public static string? CheckLoad(string key, Tensor source, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        if (!source.Shape.SequenceEqual(target.Shape))
            return $"'{key}': checkpoint has shape {Shapes.Format(source.Shape)}, model has {Shapes.Format(target.Shape)}";
        if (source.DType == target.DType) return null;
        switch (source.DType, target.DType)
        {
            case (DType.Float32, DType.Int64):
            {
                ReadOnlySpan<float> values = source.Data;
                for (int i = 0; i < values.Length; i++)
                    if (!float.IsFinite(values[i]) || values[i] != MathF.Round(values[i]) || Math.Abs(values[i]) >= 9.2e18f)
                        return $"'{key}': element {i} is {values[i].ToString(CultureInfo.InvariantCulture)}, not a whole number for an int64 tensor";
                return null;
            }
            case (DType.Int64, DType.Float32):
            {
                ReadOnlySpan<long> values = source.Int64Data;
                for (int i = 0; i < values.Length; i++)
                    if ((long)(float)values[i] != values[i])
                    {
                        MiniNetLogging.Logger.LogWarning(
                            "Loading '{Key}': int64 element {Index} ({Value}) is not exact in float32 (it becomes {Float}); MiniNet computes in float32.",
                            key, i, values[i], (float)values[i]);
                        break;
                    }
                return null;
            }
            default:
                return $"'{key}': checkpoint holds {source.DType} values, the model {target.DType}";
        }
    }
}
