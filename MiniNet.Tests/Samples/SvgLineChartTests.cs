using System.Xml.Linq;
using MiniNet.Samples;

namespace MiniNet.Tests.Samples;

[TestFixture]
public class SvgLineChartTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static XDocument Parse(SvgLineChart chart) => XDocument.Parse(chart.Render());

    [Test]
    public void Render_IsWellFormedSvg_WithAxesLabelsLegendAndOneLinePerSeries()
    {
        var chart = new SvgLineChart { Title = "Loss & accuracy", XLabel = "epoch", YLabel = "loss" }
            .Add(new Series("BN <train>", [1, 2, 3], [2.0, 1.0, 0.5]))
            .Add(new Series("no BN", [1, 2, 3], [2.2, 1.8, 1.5], Dashed: true));
        XDocument doc = Parse(chart);
        Assert.That(doc.Root!.Name, Is.EqualTo(Svg + "svg"));
        var texts = doc.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.That(texts, Does.Contain("Loss & accuracy").And.Contain("epoch").And.Contain("loss"));
        Assert.That(texts, Does.Contain("BN <train>").And.Contain("no BN"), "legend entries, escaped");
        var lines = doc.Descendants(Svg + "polyline").ToList();
        Assert.That(lines, Has.Count.EqualTo(2));
        Assert.That(lines[1].Attribute("stroke-dasharray"), Is.Not.Null);
        Assert.That(lines[0].Attribute("points")!.Value.Split(' '), Has.Length.EqualTo(3));
        Assert.That(doc.Descendants(Svg + "text").Count(t => (string?)t.Attribute("class") == "ytick"), Is.GreaterThanOrEqualTo(3));
    }

    [Test]
    public void Points_AreMonotoneInData_AndHigherValuesSitHigher()
    {
        XDocument doc = Parse(new SvgLineChart().Add(new Series("s", [0, 1, 2], [0, 10, 5])));
        double[][] points = doc.Descendants(Svg + "polyline").Single().Attribute("points")!.Value.Split(' ')
            .Select(p => p.Split(',').Select(double.Parse).ToArray()).ToArray();
        Assert.That(points[0][0], Is.LessThan(points[1][0]));
        Assert.That(points[1][0], Is.LessThan(points[2][0]));
        Assert.That(points[1][1], Is.LessThan(points[2][1]), "y = 10 is drawn above y = 5 (SVG y grows downwards)");
    }

    [Test]
    public void LogX_PlacesDecadesEvenly_AndLabelsThem()
    {
        XDocument doc = Parse(new SvgLineChart { LogX = true }.Add(new Series("lr", [0.01, 0.1, 1, 10], [1, 2, 3, 4])));
        double[] xs = doc.Descendants(Svg + "polyline").Single().Attribute("points")!.Value.Split(' ')
            .Select(p => double.Parse(p.Split(',')[0])).ToArray();
        Assert.That(xs[1] - xs[0], Is.EqualTo(xs[2] - xs[1]).Within(0.2));
        Assert.That(xs[2] - xs[1], Is.EqualTo(xs[3] - xs[2]).Within(0.2));
        var ticks = doc.Descendants(Svg + "text").Where(t => (string?)t.Attribute("class") == "xtick").Select(t => t.Value).ToList();
        Assert.That(ticks, Is.EqualTo(new[] { "0.01", "0.1", "1", "10" }));
        Assert.Throws<ArgumentException>(() => new SvgLineChart { LogX = true }.Add(new Series("bad", [0, 1], [1, 2])));
    }

    [Test]
    public void NonFiniteValues_SplitTheLine()
    {
        XDocument doc = Parse(new SvgLineChart().Add(new Series("diverged", [1, 2, 3, 4, 5], [1, 2, double.NaN, 3, 4])));
        Assert.That(doc.Descendants(Svg + "polyline").Count(), Is.EqualTo(2));
    }

    [Test]
    public void NiceTicks_CoverTheRangeInRoundSteps()
    {
        double min = 0.83, max = 0.917;
        double[] ticks = SvgLineChart.NiceTicks(ref min, ref max);
        Assert.That(min, Is.LessThanOrEqualTo(0.83));
        Assert.That(max, Is.GreaterThanOrEqualTo(0.917));
        Assert.That(ticks, Has.Length.InRange(3, 11));
        double step = ticks[1] - ticks[0];
        Assert.That(step, Is.EqualTo(0.02).Within(1e-12));
    }

    [Test]
    public void SaveFigure_WritesPanelsSideBySide()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mininet-{Guid.NewGuid():N}.svg");
        try
        {
            SvgLineChart.SaveFigure(path, new SvgLineChart { Title = "a" }.Add(new Series("x", [1, 2], [1, 2])),
                new SvgLineChart { Title = "b" }.Add(new Series("y", [1, 2], [2, 1])));
            XDocument doc = XDocument.Load(path);
            Assert.That(doc.Root!.Attribute("width")!.Value, Is.EqualTo("1120"));
            Assert.That(doc.Descendants(Svg + "g").Count(), Is.EqualTo(2));
            Assert.Throws<ArgumentException>(() => new SvgLineChart().Add(new Series("bad", [1, 2], [1])));
        }
        finally { File.Delete(path); }
    }
}
