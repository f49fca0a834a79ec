using MiniNet.Tests.Support;
using TabularRegression;

namespace MiniNet.Tests.Samples;

/// <summary>The regression sample end to end on a small synthetic table: the network must beat predicting the mean by
/// far, and a run must repeat exactly for its seed.</summary>
[TestFixture]
public class TabularRegressionTests : TempDirectoryTest
{
    [Test]
    public void LearnsPriceAndRent_Reproducibly()
    {
        string csv = PathOf("flats.csv");
        HousingData.Write(csv, rows: 1200, seed: 3);
        RegressionResult first = Regression.Run(csv, HousingData.Targets, epochs: 15, seed: 1, TextWriter.Null);
        Assert.That(first.Targets, Is.EqualTo(HousingData.Targets));
        // HousingData's noise is small beside the price's spread and a large part of the rent's: the bounds leave room
        // for that noise and still demand far less error than predicting the mean.
        Assert.That(first.TestRmse[0], Is.LessThan(0.2 * first.BaselineRmse[0]), "price");
        Assert.That(first.TestRmse[1], Is.LessThan(0.6 * first.BaselineRmse[1]), "rent");
        RegressionResult again = Regression.Run(csv, HousingData.Targets, epochs: 15, seed: 1, TextWriter.Null);
        Assert.That(again.TestRmse, Is.EqualTo(first.TestRmse), "the same seed, the same run");
    }

    [Test]
    public void AMissingTargetColumn_IsNamed()
    {
        string csv = PathOf("flats.csv");
        HousingData.Write(csv, rows: 10, seed: 3);
        Assert.That(() => Regression.Run(csv, ["value"], 1, 0, TextWriter.Null),
            Throws.InstanceOf<InvalidDataException>().With.Message.Contains("no column 'value'"));
    }
}
