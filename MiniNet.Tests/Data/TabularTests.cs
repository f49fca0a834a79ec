using System.Globalization;
using MiniNet.Data;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Data;

[TestFixture]
public class TabularTests : TempDirectoryTest
{
    private string Write(string text)
    {
        string path = PathOf("data.csv");
        File.WriteAllText(path, text);
        return path;
    }

    [Test]
    public void Csv_ReadsFeaturesAndIntegerLabels()
    {
        TensorDataset d = CsvDataset.Load(Write("a,label,b\n1.5,2,3\n-4,0,5e-1\n"), "label");
        Assert.That(d.Features.Shape, Is.EqualTo(new[] { 2, 2 }));
        Assert.That(d.Features.ToArray(), Is.EqualTo(new[] { 1.5f, 3f, -4f, 0.5f }));
        Assert.That(d.Labels, Is.EqualTo(new[] { 2, 0 }));
        Assert.That(d.Classes, Is.Null);
    }

    [Test]
    public void Csv_NamedFeatureColumns_AndStringClasses()
    {
        TensorDataset d = CsvDataset.Load(Write("x,y,z,species\n1,2,3,setosa\n4,5,6,virginica\n7,8,9,setosa\n"), "species", ["z", "x"]);
        Assert.That(d.Features.ToArray(), Is.EqualTo(new float[] { 3, 1, 6, 4, 9, 7 }));
        Assert.That(d.Classes, Is.EqualTo(new[] { "setosa", "virginica" }));
        Assert.That(d.Labels, Is.EqualTo(new[] { 0, 1, 0 }));
    }

    [TestCase("a,label\n1,0\nx,1\n", "line 3", "'a'")]
    [TestCase("a,label\n1,0\n2\n", "line 3", "1 fields")]
    [TestCase("a,label\n1,0\n2,1,7\n", "line 3", "3 fields")]
    [TestCase("a,label\n1,0\nNaN,1\n", "line 3", "finite")]
    [TestCase("a,b\n1,0\n", "header", "no column 'label'")]
    [TestCase("", "line 1", "empty")]
    [TestCase("a,label\n", "no data rows", "")]
    public void Csv_MalformedInput_NamesFileAndLine(string text, string where, string what)
    {
        string path = Write(text);
        var ex = Assert.Throws<InvalidDataException>(() => CsvDataset.Load(path, "label"));
        Assert.That(ex!.Message, Does.StartWith(path).And.Contain(where).And.Contain(what));
    }

    [Test]
    public void Normalization_FitOnTraining_StandardisesEachChannel()
    {
        Tensor x = TestData.Uniform([50, 2, 3, 3], 1, 0f, 1f);
        x.Data[..9].Fill(7f);   // make channel 0 of sample 0 an outlier
        var data = new TensorDataset(x, new int[50]);
        Normalization norm = Normalization.Fit(data);
        TensorDataset normalised = norm.Apply(data);
        Tensor y = normalised.Features;
        TensorAssert.Close(y.Mean([0, 2, 3]).Data, [0, 0], atol: 1e-5f);
        TensorAssert.Close(y.Var([0, 2, 3], unbiased: false).Data, [1, 1], atol: 1e-4f);
        Assert.That(norm.Mean[0], Is.GreaterThan(norm.Mean[1]));
        Assert.That(x[0, 0, 0, 0], Is.EqualTo(7f), "the input is not modified");
        Assert.Throws<ArgumentException>(() => norm.Apply(new TensorDataset(Tensor.Zeros(2, 3), [0, 0])));
    }

    private sealed record EpochRow(int Epoch, double TrainLoss, double TestAccuracy);

    [Test]
    public void MetricsWriter_WritesHeaderOnceAndAppendsRows()
    {
        string path = PathOf("metrics.csv");
        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");   // a comma decimal separator must not leak in
            var writer = new MetricsWriter<EpochRow>(path);
            writer.Append(new EpochRow(1, 0.5, 0.875));
            new MetricsWriter<EpochRow>(path).Append(new EpochRow(2, 0.25, 0.9));
        }
        finally { CultureInfo.CurrentCulture = previous; }
        Assert.That(File.ReadAllLines(path), Is.EqualTo(new[] { "Epoch,TrainLoss,TestAccuracy", "1,0.5,0.875", "2,0.25,0.9" }));
        Assert.Throws<DirectoryNotFoundException>(() => _ = new MetricsWriter<EpochRow>(PathOf(Path.Combine("no", "m.csv"))));
    }
}

[TestFixture]
public class CsvClassesTests : TempDirectoryTest
{
    private string Write(string name, string text)
    {
        string path = PathOf(name);
        File.WriteAllText(path, text);
        return path;
    }

    [Test]
    public void GivenClasses_MapTrainAndTestAlike_EvenWhenTheTestFileLacksOne()
    {
        string[] classes = ["setosa", "versicolor", "virginica"];
        TensorDataset train = CsvDataset.Load(Write("train.csv", "x,species\n1,setosa\n2,versicolor\n3,virginica\n"), "species", classes: classes);
        TensorDataset test = CsvDataset.Load(Write("test.csv", "x,species\n4,virginica\n5,setosa\n"), "species", classes: train.Classes);
        Assert.That(test.Labels, Is.EqualTo(new[] { 2, 0 }), "virginica is 2 in both files");
        Assert.That(test.Classes, Is.EqualTo(classes));
        var e = Assert.Throws<InvalidDataException>(() => CsvDataset.Load(Write("bad.csv", "x,species\n1,setosa\n2,iris\n"), "species", classes: classes));
        Assert.That(e!.Message, Does.Contain("line 3").And.Contain("'iris'").And.Contain("setosa, versicolor, virginica"));
        Assert.Throws<ArgumentException>(() => CsvDataset.Load(Write("c.csv", "x,species\n1,setosa\n"), "species", classes: ["a", "a"]));
    }

    [Test]
    public void NumericLabelsWithANegativeOrDecimalValue_SortAsNumbers()
    {
        TensorDataset d = CsvDataset.Load(Write("n.csv", "x,y\n1,10\n2,2\n3,-1\n4,2.5\n"), "y");
        Assert.That(d.Classes, Is.EqualTo(new[] { "-1", "2", "2.5", "10" }), "2 before 10");
        Assert.That(d.Labels, Is.EqualTo(new[] { 3, 1, 0, 2 }));
    }
}

[TestFixture]
public class CsvTargetsTests : TempDirectoryTest
{
    private string Write(string text)
    {
        string path = PathOf("data.csv");
        File.WriteAllText(path, text);
        return path;
    }

    [Test]
    public void LoadTargets_ReadsSeveralFloatTargets()
    {
        TensorPairDataset d = CsvDataset.LoadTargets(Write("a,price,b,rating\n1,10.5,2,-0.25\n3,4e1,4,1\n"), ["price", "rating"]);
        Assert.That(d.Features.Shape, Is.EqualTo(new[] { 2, 2 }));
        Assert.That(d.Features.ToArray(), Is.EqualTo(new float[] { 1, 2, 3, 4 }));
        Assert.That(d.Targets.ToArray(), Is.EqualTo(new float[] { 10.5f, -0.25f, 40, 1 }));
        Assert.That(d.TargetNames, Is.EqualTo(new[] { "price", "rating" }));
        TensorPairDataset picked = CsvDataset.LoadTargets(Write("a,y,b\n1,2,3\n"), ["y"], ["b"]);
        Assert.That((picked.Features.ToArray(), picked.Targets.ToArray()), Is.EqualTo((new float[] { 3 }, new float[] { 2 })));
    }

    [TestCase("a,y\n1,2\n", new[] { "z" }, null, "no column 'z'")]
    [TestCase("a,y\n1,2\n", new[] { "y" }, new[] { "a", "y" }, "both as a feature and as a target")]
    [TestCase("a,y\n1,2\n3,cat\n", new[] { "y" }, null, "line 3: column 'y': 'cat'")]
    [TestCase("a,y\n1,2\n3,NaN\n", new[] { "y" }, null, "line 3: column 'y': 'NaN'")]
    [TestCase("a,y\n", new[] { "y" }, null, "no data rows")]
    [TestCase("y\n1\n", new[] { "y" }, null, "no feature columns")]
    [TestCase("a,y\n1,2\n", new[] { "y", "y" }, null, "column 'y' is asked for 2 times")]
    public void LoadTargets_BadFiles_NameWhatIsWrong(string text, string[] targets, string[]? features, string what)
    {
        string path = Write(text);
        var e = Assert.Throws<InvalidDataException>(() => CsvDataset.LoadTargets(path, targets, features));
        Assert.That(e!.Message, Does.Contain(path).And.Contain(what));
    }
}
