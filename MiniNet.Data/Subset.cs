namespace MiniNet.Data;

/// <summary>The samples of a dataset at the given indices, in that order (PyTorch's <c>Subset</c>): a view, no copy.</summary>
public class Subset<T> : IDataset<T>
{
    private readonly int[] _indices;

    /// <summary>Views <paramref name="source"/> through <paramref name="indices"/> (each in [0, source.Count); repeats allowed).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index outside the source (named, with its position).</exception>
    public Subset(IDataset<T> source, IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(indices);
        for (int i = 0; i < indices.Count; i++)
            if ((uint)indices[i] >= (uint)source.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), indices[i],
                    $"Subset: index {indices[i]} at position {i} is outside the dataset of {source.Count} samples.");
        (Source, _indices) = (source, [.. indices]);
    }

    /// <summary>The dataset viewed.</summary>
    public IDataset<T> Source { get; }

    /// <summary>The source indices, in this subset's order.</summary>
    public IReadOnlyList<int> Indices => _indices;

    /// <inheritdoc/>
    public int Count => _indices.Length;

    /// <inheritdoc/>
    public T this[int index] => Source[_indices[index]];

    /// <summary>The source index of sample <paramref name="index"/>.</summary>
    protected int SourceIndex(int index) => _indices[index];
}

/// <summary>A <see cref="Subset{T}"/> of a labelled dataset that is itself one, so a <see cref="DataLoader"/> copies its
/// samples straight from the source (<see cref="ILabeledDataset.CopySample"/>) as fast as from the whole dataset.</summary>
public sealed class LabeledSubset(ILabeledDataset source, IReadOnlyList<int> indices)
    : Subset<(Tensor Features, int Label)>(source, indices), ILabeledDataset
{
    /// <inheritdoc/>
    public IReadOnlyList<int> SampleShape => source.SampleShape;

    /// <inheritdoc/>
    public int CopySample(int index, Span<float> destination) => source.CopySample(SourceIndex(index), destination);
}

/// <summary>A <see cref="Subset{T}"/> of a dataset with float targets that is itself one, so a loader copies its samples
/// straight from the source (<see cref="ITensorPairDataset.CopySample"/>).</summary>
public sealed class TensorPairSubset(ITensorPairDataset source, IReadOnlyList<int> indices)
    : Subset<(Tensor Features, Tensor Target)>(source, indices), ITensorPairDataset
{
    /// <inheritdoc/>
    public IReadOnlyList<int> SampleShape => source.SampleShape;

    /// <inheritdoc/>
    public IReadOnlyList<int> TargetShape => source.TargetShape;

    /// <inheritdoc/>
    public void CopySample(int index, Span<float> features, Span<float> target) => source.CopySample(SourceIndex(index), features, target);
}

/// <summary>Dataset helpers.</summary>
public static class Datasets
{
    /// <summary>Splits a labelled dataset into disjoint random subsets (PyTorch's <c>random_split</c>), reproducibly for
    /// a seed; see <see cref="RandomSplit{T}(IDataset{T}, IReadOnlyList{double}, int)"/>.</summary>
    public static LabeledSubset[] RandomSplit(ILabeledDataset dataset, IReadOnlyList<double> fractions, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return [.. SplitIndices(dataset.Count, fractions, seed).Select(part => new LabeledSubset(dataset, part))];
    }

    /// <summary>Splits a dataset with float targets into disjoint random subsets (PyTorch's <c>random_split</c>),
    /// reproducibly for a seed; see <see cref="RandomSplit{T}(IDataset{T}, IReadOnlyList{double}, int)"/>.</summary>
    public static TensorPairSubset[] RandomSplit(ITensorPairDataset dataset, IReadOnlyList<double> fractions, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return [.. SplitIndices(dataset.Count, fractions, seed).Select(part => new TensorPairSubset(dataset, part))];
    }

    /// <summary>Splits a dataset into disjoint random subsets that cover it, reproducibly for a seed.</summary>
    /// <param name="dataset">The dataset.</param>
    /// <param name="fractions">Fractions adding up to 1 (each part gets ⌊fraction·Count⌋ samples, and the remainder goes
    /// one each to the first parts, as PyTorch does), or whole-number lengths adding up to Count.</param>
    /// <param name="seed">The permutation's seed.</param>
    /// <exception cref="ArgumentException">The fractions do not add up to 1 (or the lengths to Count), or one is negative.</exception>
    public static Subset<T>[] RandomSplit<T>(IDataset<T> dataset, IReadOnlyList<double> fractions, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return [.. SplitIndices(dataset.Count, fractions, seed).Select(part => new Subset<T>(dataset, part))];
    }

    private static int[][] SplitIndices(int count, IReadOnlyList<double> fractions, int seed)
    {
        ArgumentNullException.ThrowIfNull(fractions);
        if (fractions.Count == 0) throw new ArgumentException("RandomSplit: give at least one fraction or length.", nameof(fractions));
        if (fractions.Any(p => !(p >= 0) || double.IsInfinity(p)))
            throw new ArgumentException($"RandomSplit: ({string.Join(", ", fractions)}) includes a negative or non-finite part.", nameof(fractions));
        double total = fractions.Sum();
        int[] lengths;
        if (Math.Abs(total - 1) < 1e-9)   // fractions, as PyTorch decides (so (1, 0) is all to the first part)
        {
            lengths = [.. fractions.Select(p => (int)Math.Floor(p * count))];
            int remainder = count - lengths.Sum();
            for (int i = 0; i < remainder; i++) lengths[i % lengths.Length]++;
        }
        else if (total == count && fractions.All(p => p == Math.Floor(p)))
        {
            lengths = [.. fractions.Select(p => (int)p)];
        }
        else
        {
            throw new ArgumentException(
                $"RandomSplit: ({string.Join(", ", fractions)}) neither are fractions adding up to 1 nor lengths adding up to the {count} samples.", nameof(fractions));
        }
        int[] order = [.. Enumerable.Range(0, count)];
        Rng.Create(seed).Shuffle(order);
        var result = new int[lengths.Length][];
        for (int i = 0, start = 0; i < lengths.Length; start += lengths[i], i++) result[i] = order[start..(start + lengths[i])];
        return result;
    }
}
