using MiniNet.Data;

namespace MiniNet.Tests.Data;

/// <summary>Subset, LabeledSubset and RandomSplit: disjoint covering parts, PyTorch's rounding of fractions,
/// reproducible for a seed, loaded at full speed through CopySample, and their errors.</summary>
[TestFixture]
public class SubsetTests
{
    private static TensorDataset Numbered(int n) =>
        new(Tensor.FromArray([.. Enumerable.Range(0, n * 2).Select(i => (float)i)], n, 2), [.. Enumerable.Range(0, n)]);

    [Test]
    public void RandomSplit_Fractions_GiveDisjointParts_RoundedAsPyTorch()
    {
        TensorDataset data = Numbered(10);
        LabeledSubset[] parts = Datasets.RandomSplit(data, [0.5, 0.25, 0.25], seed: 3);
        Assert.That(parts.Select(p => p.Count), Is.EqualTo(new[] { 6, 2, 2 }), "⌊5, 2.5, 2.5⌋ = 5, 2, 2 plus the remainder to the first");
        Assert.That(parts.SelectMany(p => p.Indices).Order(), Is.EqualTo(Enumerable.Range(0, 10)));
        Assert.That(Datasets.RandomSplit(data, [0.5, 0.25, 0.25], seed: 3)[1].Indices, Is.EqualTo(parts[1].Indices), "same seed, same split");
        Assert.That(Datasets.RandomSplit(data, [7.0, 3.0], seed: 1).Select(p => p.Count), Is.EqualTo(new[] { 7, 3 }), "lengths");
    }

    [Test]
    public void LabeledSubset_LoadsThroughTheSourceRows()
    {
        TensorDataset data = Numbered(8);
        var subset = new LabeledSubset(data, [5, 1, 5]);
        Assert.That(subset[0].Label, Is.EqualTo(5));
        var loader = new DataLoader(subset, batchSize: 3);
        (Tensor x, int[] y) = loader.First();
        Assert.That(y, Is.EqualTo(new[] { 5, 1, 5 }));
        Assert.That(x.ToArray(), Is.EqualTo(new float[] { 10, 11, 2, 3, 10, 11 }));
        Subset<int>[] generic = Datasets.RandomSplit<int>(new Numbers(5), [0.6, 0.4]);
        Assert.That(generic.Sum(p => p.Count), Is.EqualTo(5));
    }

    [Test]
    public void BadArguments_AreRefused()
    {
        TensorDataset data = Numbered(4);
        Assert.Multiple(() =>
        {
            Assert.That(() => new LabeledSubset(data, [0, 4]), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("index 4 at position 1"));
            Assert.That(() => Datasets.RandomSplit(data, [0.5, 0.6]), Throws.ArgumentException.With.Message.Contains("(0.5, 0.6)"));
            Assert.That(() => Datasets.RandomSplit(data, [3.0, 2.0]), Throws.ArgumentException.With.Message.Contains("4 samples"));
            Assert.That(() => Datasets.RandomSplit(data, [-0.5, 1.5]), Throws.ArgumentException.With.Message.Contains("negative"));
        });
    }

    private sealed class Numbers(int n) : IDataset<int>
    {
        public int Count => n;
        public int this[int index] => index;
    }
}
