using System.Xml.Linq;
using MiniNet.Samples;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Samples;

[TestFixture]
public class LineChartTests : TempDirectoryTest
{
    [Test]
    public void SaveFigure_WritesAnSvgAndAPng_WithTitlesLabelsAndLegends()
    {
        var loss = new LineChart { Title = "Loss & accuracy", XLabel = "epoch", YLabel = "loss", IntegerX = true }
            .Add(new Series("BN <train>", [1, 2, 3], [2.0, 1.0, 0.5]))
            .Add(new Series("no BN", [1, 2, 3], [2.2, double.NaN, 1.5], Dashed: true));
        var sweep = new LineChart { Title = "Sweep", XLabel = "learning rate", YLabel = "accuracy", LogX = true }
            .Add(new Series("lr", [0.01, 0.1, 1, 10], [0.1, 0.5, 0.8, 0.2]));
        string svg = PathOf("figure.svg");
        string png = LineChart.SaveFigure(svg, loss, sweep);
        Assert.That(png, Is.EqualTo(PathOf("figure.png")));

        XDocument doc = XDocument.Load(svg);
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.That(doc.Root!.Name, Is.EqualTo(ns + "svg"));
        Assert.That((int)doc.Root.Attribute("width")!, Is.EqualTo(2 * 640));
        Assert.That(doc.Root.Elements(ns + "svg").Count(), Is.EqualTo(2), "one nested panel per chart");
        string text = doc.ToString();
        foreach (string expected in new[] { "Loss &amp; accuracy", "epoch", "BN &lt;train&gt;", "no BN", "Sweep", "learning rate" })
            Assert.That(text, Does.Contain(expected));

        byte[] bytes = File.ReadAllBytes(png);
        Assert.That(bytes[..8], Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "a PNG");
        int width = bytes[16] << 24 | bytes[17] << 16 | bytes[18] << 8 | bytes[19], height = bytes[20] << 24 | bytes[21] << 16 | bytes[22] << 8 | bytes[23];
        Assert.That((width, height), Is.EqualTo((1280, 400)));
        Assert.That(Directory.GetFiles(Dir, "*.tmp"), Is.Empty);
    }

    [Test]
    public void Add_RefusesMismatchedOrNonPositiveLogValues()
    {
        Assert.Throws<ArgumentException>(() => new LineChart().Add(new Series("a", [1, 2], [1])));
        Assert.Throws<ArgumentException>(() => new LineChart { LogX = true }.Add(new Series("bad", [0, 1], [1, 2])));
        Assert.Throws<ArgumentException>(() => new LineChart().Add(new Series("nan x", [double.NaN], [1])));
        Assert.Throws<ArgumentException>(() => LineChart.SaveFigure(PathOf("none.svg")));
    }
}
