using MiniNet.Data;
using MiniNet.Data.Transforms;
using MiniNet.Layers;
using MiniNet.Optim;

namespace MiniNet.Tests.Data;

[TestFixture]
public class GenericLoaderTests
{
    /// <summary>n samples of 3 features (index, 2·index, −index) and 2 targets (index + 0.5, index·index).</summary>
    private static TensorPairDataset Pairs(int n)
    {
        var x = new float[n * 3];
        var y = new float[n * 2];
        for (int i = 0; i < n; i++) (x[3 * i], x[3 * i + 1], x[3 * i + 2], y[2 * i], y[2 * i + 1]) = (i, 2 * i, -i, i + 0.5f, i * i);
        return new TensorPairDataset(Tensor.FromArray(x, n, 3), Tensor.FromArray(y, n, 2), ["a", "b"]);
    }

    /// <summary>The same samples through the indexer only (no CopySample of its own).</summary>
    private sealed class ThroughIndexer(TensorPairDataset inner) : IDataset<(Tensor Features, Tensor Target)>
    {
        public int Count => inner.Count;
        public (Tensor Features, Tensor Target) this[int index] => inner[index];
    }

    private static List<int> Epoch(IEnumerable<(Tensor X, Tensor Y)> loader, List<int>? sizes = null)
    {
        var seen = new List<int>();
        foreach ((Tensor x, Tensor y) in loader)
        {
            Assert.That(x.Shape.Skip(1), Is.EqualTo(new[] { 3 }));
            Assert.That(y.Shape, Is.EqualTo(new[] { x.Shape[0], 2 }));
            sizes?.Add(x.Shape[0]);
            for (int i = 0; i < x.Shape[0]; i++)
            {
                int index = (int)x[i, 0];
                Assert.That((x[i, 1], x[i, 2]), Is.EqualTo((2f * index, -(float)index)), "features are copied whole");
                Assert.That((y[i, 0], y[i, 1]), Is.EqualTo((index + 0.5f, (float)index * index)), "targets travel with their rows");
                seen.Add(index);
            }
        }
        return seen;
    }

    [TestCase(false, false), TestCase(true, false), TestCase(false, true)]
    public void FloatTargets_EverySampleOnceWithItsTarget(bool prefetch, bool throughIndexer)
    {
        TensorPairDataset data = Pairs(53);
        var loader = throughIndexer ? DataLoader.Create(new ThroughIndexer(data), 10, shuffle: true, seed: 3, prefetch: prefetch)
            : DataLoader.Create(data, 10, shuffle: true, seed: 3, prefetch: prefetch);
        var sizes = new List<int>();
        List<int> seen = Epoch(loader, sizes);
        Assert.That(seen.Order(), Is.EqualTo(Enumerable.Range(0, 53)));
        Assert.That(sizes, Is.EqualTo(new[] { 10, 10, 10, 10, 10, 3 }));
        Assert.That(seen, Is.Not.EqualTo(Enumerable.Range(0, 53)), "shuffled");
        Assert.That(Epoch(DataLoader.Create(data, 10, shuffle: true, seed: 3)), Is.EqualTo(seen), "the same seed, the same order");
        Assert.That(Epoch(loader), Is.Not.EqualTo(seen), "the next epoch reshuffles");
    }

    [Test]
    public void FloatTargets_DropLastAndReusedBuffers()
    {
        var loader = DataLoader.Create(Pairs(25), 10, dropLast: true);
        Assert.That((loader.BatchCount, loader.SampleCount), Is.EqualTo((2, 20)));
        var xs = new List<Tensor>();
        foreach (int _ in Enumerable.Range(0, 2))
            foreach ((Tensor x, Tensor _) in loader) xs.Add(x);
        Assert.That(xs, Has.Count.EqualTo(4));
        Assert.That(xs[2], Is.SameAs(xs[0]), "full batches are assembled into two buffers used in turn");
        Assert.That(xs[1], Is.Not.SameAs(xs[0]));
    }

    [Test]
    public void FloatTargets_ASampleOfAnotherShapeIsNamed()
    {
        var items = new List<(Tensor, Tensor)> { (Tensor.Zeros(3), Tensor.Zeros(2)), (Tensor.Zeros(4), Tensor.Zeros(2)) };
        var loader = DataLoader.Create(new ListDataset<(Tensor, Tensor)>(items), 2);
        var error = Assert.Throws<InvalidDataException>(() => Epoch(loader));
        Assert.That(error!.Message, Does.Contain("sample 1").And.Contain("(4)").And.Contain("(3)"));
    }

    [TestCase(false), TestCase(true)]
    public void ABadSample_SurfacesAsItself_WithPrefetchToo(bool prefetch)
    {
        var items = Enumerable.Range(0, 9).Select(i => (Tensor.Zeros(3), Tensor.Zeros(2))).ToList();
        items[6] = (Tensor.Zeros(3, 1), Tensor.Zeros(2));   // as many values, another shape
        var loader = DataLoader.Create(new ListDataset<(Tensor, Tensor)>(items), 2, prefetch: prefetch);
        static int Drain(IEnumerable<(Tensor X, Tensor Y)> batches) => batches.Sum(b => b.X.Shape[0]);
        var error = Assert.Throws<InvalidDataException>(() => Drain(loader));
        Assert.That(error!.Message, Does.Contain("sample 6").And.Contain("(3, 1)"));
        Assert.That(Drain(DataLoader.Create(new ListDataset<(Tensor, Tensor)>(items[..6]), 2, prefetch: prefetch)), Is.EqualTo(6),
            "a new loader over good samples runs");
    }

    [TestCase(false), TestCase(true)]
    public void OverlappingEpochs_AreRefused_AndTheFirstStillFinishes(bool prefetch)
    {
        var loader = DataLoader.Create(Pairs(20), 5, shuffle: true, prefetch: prefetch);
        int batches = 0;
        foreach ((Tensor x, Tensor _) in loader)
        {
            if (batches++ == 1)
                Assert.That(() => loader.First(), Throws.InvalidOperationException.With.Message.Contains("already being enumerated"));
        }
        Assert.That(batches, Is.EqualTo(4));
        Assert.That(loader.Count(), Is.EqualTo(4), "after the epoch ends, the next one may start");
    }

    [TestCase(false), TestCase(true)]
    public void DropLast_WithFewerSamplesThanABatch_GivesEmptyEpochs(bool prefetch)
    {
        var loader = DataLoader.Create(Pairs(3), 5, dropLast: true, prefetch: prefetch);
        Assert.That(loader.BatchCount, Is.EqualTo(0));
        Assert.That(loader.ToList(), Is.Empty);
    }

    [TestCase(53, 3, false), TestCase(53, 3, true), TestCase(60, 4, false), TestCase(7, 2, false)]
    public void Shards_AreDisjoint_EqualInLength_AndReshuffledPerEpoch(int count, int ranks, bool dropTail)
    {
        TensorPairDataset data = Pairs(count);
        var loaders = Enumerable.Range(0, ranks).Select(r => DataLoader.Create(data, 4, shuffle: true, seed: 8, shard: new DataShard(r, ranks, dropTail))).ToArray();
        int expected = dropTail ? count / ranks : (count + ranks - 1) / ranks;
        for (int epoch = 0; epoch < 2; epoch++)
        {
            List<int>[] shards = [.. loaders.Select(l => Epoch(l))];
            Assert.That(shards.Select(s => s.Count), Is.All.EqualTo(expected), "every rank takes as many samples, so as many steps");
            Assert.That(loaders.Select(l => l.BatchCount).Distinct().Count(), Is.EqualTo(1));
            var all = shards.SelectMany(s => s).ToList();
            if (dropTail) Assert.That(all.Distinct().Count(), Is.EqualTo(all.Count), "cut: disjoint");
            else
            {
                Assert.That(all.Distinct().Order(), Is.EqualTo(Enumerable.Range(0, count)), "padded: every sample, some twice");
                Assert.That(all.Count - count, Is.LessThan(ranks));
            }
            // Interleaved from one epoch order: the same permutation as the unsharded loader's.
            List<int> whole = Epoch(new DataLoader<(Tensor, Tensor), (Tensor X, Tensor Y)>(data, Collate.Pairs(), 4, shuffle: true, seed: 8) { Epoch = epoch });
            for (int r = 0; r < ranks; r++)
                for (int i = 0; i < expected; i++) Assert.That(shards[r][i], Is.EqualTo(whole[(r + i * ranks) % count]), $"rank {r} position {i}");
        }
        Assert.That(() => DataLoader.Create(data, 4, shard: new DataShard(3, 3)), Throws.ArgumentException.With.Message.Contains("shard 3 of 3"));
        Assert.That(DataShard.OfWorld(), Is.EqualTo(new DataShard(0, 1)), "a world of one: the whole epoch");
    }

    private sealed class ListDataset<T>(List<T> items) : IDataset<T>
    {
        public int Count => items.Count;
        public T this[int index] => items[index];
    }

    [Test]
    public void TensorPairDataset_RejectsMismatchedTensors()
    {
        Assert.That(() => new TensorPairDataset(Tensor.Zeros(4, 3), Tensor.Zeros(5, 1)),
            Throws.ArgumentException.With.Message.Contains("(4, 3)").And.Message.Contains("(5, 1)"));
        Assert.That(() => new TensorPairDataset(Tensor.Zeros(4, 3), Tensor.FromInt64Array([1, 2, 3, 4])),
            Throws.ArgumentException.With.Message.Contains("Int64"));
        Assert.That(() => DataLoader.Create(new ListDataset<(Tensor, Tensor)>([]), 2), Throws.ArgumentException.With.Message.Contains("empty"));
    }

    [Test]
    public void FunctionCollate_BuildsAnyBatch()
    {
        var words = new ListDataset<string>(["a", "bb", "ccc", "dddd", "eeeee"]);
        var loader = DataLoader.Create(words, s => s.Sum(w => w.Length), batchSize: 2);
        Assert.That(loader.ToList(), Is.EqualTo(new[] { 3, 7, 5 }));
    }

    [Test]
    public void RandomSplit_OfFloatTargets_KeepsTheRowCopy()
    {
        TensorPairSubset[] parts = Datasets.RandomSplit(Pairs(11), [0.5, 0.5], seed: 2);
        Assert.That(parts.Select(p => p.Count), Is.EqualTo(new[] { 6, 5 }));
        var all = parts.SelectMany(p => Epoch(DataLoader.Create(p, 4))).ToList();
        Assert.That(all.Order(), Is.EqualTo(Enumerable.Range(0, 11)), "disjoint and covering, each target with its row");
    }

    [Test]
    public void Regression_TrainsThroughTheLoader()
    {
        // y = x·w with three outputs: MSELoss on the loader's float targets falls to near zero.
        Tensor x = Tensor.Randn([256, 4], seed: 1);
        Tensor w = Tensor.FromArray([1f, -2, 0.5f, 3, 0, 1, -1, 1, 2, 0.25f, 1, -0.5f], 4, 3);
        Tensor y;
        using (Autograd.NoGrad()) y = x.MatMul(w).Clone();
        var loader = DataLoader.Create(new TensorPairDataset(x, y), 32, shuffle: true, seed: 4, prefetch: true);
        Rng.ManualSeed(0);
        var model = new Dense(4, 3, bias: false);
        var optimizer = new SGD(model.Parameters(), lr: 0.05f, momentum: 0.9f);
        var loss = new MSELoss();
        float first = float.NaN, last = float.NaN;
        for (int epoch = 0; epoch < 20; epoch++)
            foreach ((Tensor xb, Tensor yb) in loader)
            {
                optimizer.ZeroGrad();
                Tensor l = loss.Forward(model.Forward(xb), yb);
                l.Backward();
                optimizer.Step();
                if (float.IsNaN(first)) first = l.Item();
                last = l.Item();
            }
        Assert.That(first, Is.GreaterThan(1f));
        Assert.That(last, Is.LessThan(1e-3f));
    }
}
