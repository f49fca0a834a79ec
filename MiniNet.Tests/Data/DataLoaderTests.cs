using MiniNet.Data;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Data;

[TestFixture]
public class DataLoaderTests
{
    /// <summary>n samples of shape (2, 3) whose every value is the sample's index, labelled index % 7.</summary>
    private static TensorDataset Indexed(int n)
    {
        var values = new float[n * 6];
        for (int i = 0; i < values.Length; i++) values[i] = i / 6;
        return new TensorDataset(Tensor.FromArray(values, n, 2, 3), Enumerable.Range(0, n).Select(i => i % 7).ToArray());
    }

    private static List<int> Epoch(DataLoader loader, List<int>? sizes = null)
    {
        var seen = new List<int>();
        foreach (var (x, y) in loader)
        {
            sizes?.Add(y.Length);
            Assert.That(x.Shape, Is.EqualTo(new[] { y.Length, 2, 3 }));
            for (int i = 0; i < y.Length; i++)
            {
                int index = (int)x[i, 0, 0];
                Assert.That(x[i, 1, 2], Is.EqualTo((float)index), "rows are copied whole");
                Assert.That(y[i], Is.EqualTo(index % 7), "labels travel with their rows");
                seen.Add(index);
            }
        }
        return seen;
    }

    [TestCase(false), TestCase(true)]
    public void Epoch_YieldsEverySampleExactlyOnce(bool prefetch)
    {
        var loader = new DataLoader(Indexed(103), batchSize: 10, shuffle: true, seed: 5, prefetch: prefetch);
        var sizes = new List<int>();
        List<int> seen = Epoch(loader, sizes);
        Assert.That(seen.Order(), Is.EqualTo(Enumerable.Range(0, 103)));
        Assert.That(sizes, Is.EqualTo(Enumerable.Repeat(10, 10).Append(3)));
        Assert.That(seen, Is.Not.EqualTo(Enumerable.Range(0, 103)), "shuffled");
        Assert.That(loader.BatchCount, Is.EqualTo(11));
    }

    [Test]
    public void DropLast_SkipsTheIncompleteBatch()
    {
        var loader = new DataLoader(Indexed(103), batchSize: 10, shuffle: true, seed: 1, dropLast: true);
        var sizes = new List<int>();
        List<int> seen = Epoch(loader, sizes);
        Assert.That(sizes, Is.EqualTo(Enumerable.Repeat(10, 10)));
        Assert.That(seen.Distinct().Count(), Is.EqualTo(100));
        Assert.That(loader.BatchCount, Is.EqualTo(10));
        Assert.That(loader.SampleCount, Is.EqualTo(100));
    }

    [Test]
    public void Shuffle_IsReproducibleForASeed_AndNewEachEpoch()
    {
        var a = new DataLoader(Indexed(50), 8, shuffle: true, seed: 42);
        var b = new DataLoader(Indexed(50), 8, shuffle: true, seed: 42);
        List<int> a0 = Epoch(a), a1 = Epoch(a);
        Assert.That(Epoch(b), Is.EqualTo(a0));
        Assert.That(a1, Is.Not.EqualTo(a0));
        Assert.That(Epoch(new DataLoader(Indexed(50), 8, shuffle: true, seed: 43)), Is.Not.EqualTo(a0));
        var resumed = new DataLoader(Indexed(50), 8, shuffle: true, seed: 42) { Epoch = 1 };
        Assert.That(Epoch(resumed), Is.EqualTo(a1), "setting Epoch resumes the sequence");
    }

    [Test]
    public void NoShuffle_KeepsDatasetOrder() =>
        Assert.That(Epoch(new DataLoader(Indexed(23), 5)), Is.EqualTo(Enumerable.Range(0, 23)));

    [Test]
    public void Prefetch_GivesTheSameBatchesAsSequential()
    {
        List<int> plain = Epoch(new DataLoader(Indexed(77), 9, shuffle: true, seed: 3));
        Assert.That(Epoch(new DataLoader(Indexed(77), 9, shuffle: true, seed: 3, prefetch: true)), Is.EqualTo(plain));
    }

    [Test]
    public void Batches_ReuseTwoBuffers()
    {
        var loader = new DataLoader(Indexed(40), 10);
        var tensors = loader.Select(b => b.X).ToList();
        Assert.That(tensors.Distinct().Count(), Is.EqualTo(2));
    }

    /// <summary>A dataset that is not a TensorDataset: the loader copies each sample's tensor.</summary>
    private sealed class Squares : IDataset<(Tensor Features, int Label)>
    {
        public int Count => 12;
        public (Tensor Features, int Label) this[int index] => (Tensor.Full([2, 3], index), index % 7);
    }

    [Test]
    public void GenericDataset_IsCopiedSampleBySample() =>
        Assert.That(Epoch(new DataLoader(new Squares(), 5, shuffle: true, seed: 2)).Order(), Is.EqualTo(Enumerable.Range(0, 12)));

    [Test]
    public void InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new DataLoader(Indexed(5), 0));
        Assert.Throws<ArgumentException>(() => _ = new DataLoader(new TensorDataset(Tensor.Zeros(0, 2), []), 4));
        Assert.Throws<ArgumentException>(() => _ = new TensorDataset(Tensor.Zeros(3, 2), [1, 2]));
    }
}
