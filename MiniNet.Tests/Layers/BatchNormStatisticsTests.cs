using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Layers;

[TestFixture]
public class BatchNormStatisticsTests
{
    // Batches of unequal size (5, 5, 3) with different means, so the two estimators differ.
    private static List<Tensor> Batches() =>
    [
        TestData.Uniform([5, 3], 1, 0f, 2f),
        TestData.Uniform([5, 3], 2, 1f, 5f),
        TestData.Uniform([3, 3], 3, -4f, 0f),
    ];

    [Test]
    public void Pooled_EqualsDirectComputationOverTheWholeSet()
    {
        var model = new Sequential(new BatchNorm1d(3));
        List<Tensor> batches = Batches();
        BatchNormStatistics.Recompute(model, batches, PopulationEstimator.Pooled);
        var bn = (BatchNorm1d)model[0];
        for (int c = 0; c < 3; c++)
        {
            double[] all = batches.SelectMany(b => Enumerable.Range(0, b.Size(0)).Select(i => (double)b[i, c])).ToArray();
            Assert.That(bn.RunningMean![c], Is.EqualTo(MathNet.Numerics.Statistics.Statistics.Mean(all)).Within(1e-6));
            Assert.That(bn.RunningVar![c], Is.EqualTo(MathNet.Numerics.Statistics.Statistics.Variance(all)).Within(1e-5));
        }
    }

    [Test]
    public void PaperAverage_EqualsMeanOfBatchMomentsWithBesselFactor()
    {
        var model = new Sequential(new BatchNorm1d(3));
        List<Tensor> batches = Batches();
        BatchNormStatistics.Recompute(model, batches, PopulationEstimator.PaperAverage);
        var bn = (BatchNorm1d)model[0];
        for (int c = 0; c < 3; c++)
        {
            var columns = batches.Select(b => Enumerable.Range(0, b.Size(0)).Select(i => (double)b[i, c]).ToArray()).ToList();
            double mean = columns.Average(col => col.Average());
            double variance = columns.Average(col => MathNet.Numerics.Statistics.Statistics.Variance(col));   // m/(m−1)·σ²_B
            Assert.That(bn.RunningMean![c], Is.EqualTo(mean).Within(1e-6));
            Assert.That(bn.RunningVar![c], Is.EqualTo(variance).Within(1e-5));
        }
    }

    [Test]
    public void Recompute_SecondLayerSeesFirstLayerNormalisedByBatchStatistics()
    {
        // BN → Dense → BN: the second layer's statistics are those of the inputs it sees in training.
        var dense = new Dense(3, 2, bias: false, generator: Rng.Create(4));
        var model = new Sequential(new BatchNorm1d(3), dense, new BatchNorm1d(2));
        List<Tensor> batches = Batches();
        BatchNormStatistics.Recompute(model, batches);
        var second = (BatchNorm1d)model[2];
        var seen = new List<double>[2] { [], [] };
        using (MiniNet.Autograd.NoGrad())
        {
            foreach (Tensor b in batches)
            {
                Tensor h = b.BatchNorm(null, null, null, null, training: true).Linear(dense.Weight);
                for (int i = 0; i < h.Size(0); i++) for (int c = 0; c < 2; c++) seen[c].Add(h[i, c]);
            }
        }
        for (int c = 0; c < 2; c++)
        {
            Assert.That(second.RunningMean![c], Is.EqualTo(seen[c].Average()).Within(1e-5));
            Assert.That(second.RunningVar![c], Is.EqualTo(MathNet.Numerics.Statistics.Statistics.Variance(seen[c])).Within(1e-4));
        }
    }

    [Test]
    public void Recompute_LeavesEvalMode_AndChangesNoParameterOrCounter()
    {
        var bn = new BatchNorm1d(3);
        var model = new Sequential(bn, new Dropout(0.5f));
        float[] gamma = bn.Weight!.ToArray();
        Assert.That(BatchNormStatistics.Recompute(model, Batches()), Is.EqualTo(1));
        Assert.That(model.Training, Is.False);
        Assert.That(bn.Training, Is.False);
        Assert.That(bn.NumBatchesTracked!.Item(), Is.EqualTo(0f));
        Assert.That(bn.Weight.ToArray(), Is.EqualTo(gamma));
    }

    [Test]
    public void Recompute_NoBatches_Throws() =>
        Assert.Throws<ArgumentException>(() => BatchNormStatistics.Recompute(new Sequential(new BatchNorm1d(2)), []));
}
