namespace MiniNet.Data;

/// <summary>A finite, indexable collection of samples.</summary>
public interface IDataset<out T>
{
    /// <summary>The number of samples.</summary>
    int Count { get; }

    /// <summary>The sample at <paramref name="index"/> (0 ≤ index &lt; Count).</summary>
    T this[int index] { get; }
}
