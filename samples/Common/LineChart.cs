using System.Globalization;
using System.Xml.Linq;
using ScottPlot;
using SkiaSharp;

namespace MiniNet.Samples;

/// <summary>One line on a chart: points (x, y) in order. Non-finite y values leave a gap.</summary>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, bool Dashed = false);

/// <summary>A line chart drawn with ScottPlot: a title, axis labels, several series and a legend in the emptiest corner; the x
/// axis can be logarithmic. Several charts share one figure (<see cref="SaveFigure"/>), written as SVG and PNG.</summary>
public sealed class LineChart
{
    private readonly List<Series> _series = [];

    /// <summary>Title above the plot.</summary>
    public string Title { get; init; } = "";

    /// <summary>Label under the x axis.</summary>
    public string XLabel { get; init; } = "";

    /// <summary>Label beside the y axis.</summary>
    public string YLabel { get; init; } = "";

    /// <summary>Logarithmic x axis (every x must be positive): a tick at each x of a sweep of up to 12 values, else at
    /// powers of ten.</summary>
    public bool LogX { get; init; }

    /// <summary>Ticks of the x axis at whole numbers only (epochs, steps).</summary>
    public bool IntegerX { get; init; }

    /// <summary>Width of one chart in pixels.</summary>
    public int Width { get; init; } = 640;

    /// <summary>Height of one chart in pixels.</summary>
    public int Height { get; init; } = 400;

    /// <summary>The series added so far.</summary>
    public IReadOnlyList<Series> Series => _series;

    /// <summary>Adds a series.</summary>
    /// <exception cref="ArgumentException">X and Y differ in length, or an x is not finite (or, on a log axis, not positive).</exception>
    public LineChart Add(Series series)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.X.Count != series.Y.Count)
            throw new ArgumentException($"Series '{series.Name}': {series.X.Count} x values but {series.Y.Count} y values.", nameof(series));
        if (series.X.Any(x => !double.IsFinite(x) || (LogX && x <= 0)))
            throw new ArgumentException($"Series '{series.Name}': x values must be finite{(LogX ? " and positive on a log axis" : "")}.", nameof(series));
        _series.Add(series);
        return this;
    }

    /// <summary>Writes <paramref name="charts"/> into one figure, two panels a row: <paramref name="path"/> (SVG) and the
    /// same name with <c>.png</c>. Each file is written to a temporary file, then renamed.</summary>
    /// <returns>The PNG's path.</returns>
    public static string SaveFigure(string path, params LineChart[] charts)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (charts.Length == 0) throw new ArgumentException("SaveFigure: give at least one chart.", nameof(charts));
        int columns = Math.Min(2, charts.Length), rows = (charts.Length + columns - 1) / columns;
        int cell = charts.Max(c => c.Width), height = charts.Max(c => c.Height);
        int width = columns * cell, total = rows * height;
        Plot[] plots = charts.Select(c => c.Build()).ToArray();
        // Each panel is drawn on its own (a plot paints its whole canvas), then placed: nested <svg> elements in the SVG,
        // images in the PNG.
        XNamespace svg = "http://www.w3.org/2000/svg";
        var figure = new XElement(svg + "svg", new XAttribute("width", width), new XAttribute("height", total),
            new XAttribute("viewBox", $"0 0 {width} {total}"), new XElement(svg + "rect", new XAttribute("width", "100%"),
                new XAttribute("height", "100%"), new XAttribute("fill", "white")));
        using SKSurface surface = SKSurface.Create(new SKImageInfo(width, total));
        surface.Canvas.Clear(SKColors.White);
        for (int i = 0; i < plots.Length; i++)
        {
            int x = i % columns * cell, y = i / columns * height;
            XElement panel = XDocument.Parse(plots[i].GetSvgXml(cell, height)).Root!;
            panel.SetAttributeValue("x", x);
            panel.SetAttributeValue("y", y);
            figure.Add(panel);
            using SKSurface one = SKSurface.Create(new SKImageInfo(cell, height));
            plots[i].Render(one.Canvas, new PixelRect(0, cell, height, 0));
            using SKImage image = one.Snapshot();
            surface.Canvas.DrawImage(image, x, y, new SKSamplingOptions(SKFilterMode.Nearest));
        }

        string svgTemporary = path + ".tmp";
        new XDocument(figure).Save(svgTemporary);
        File.Move(svgTemporary, path, overwrite: true);

        string png = Path.ChangeExtension(path, ".png"), pngTemporary = png + ".tmp";
        using (SKImage image = surface.Snapshot())
        using (SKData data = image.Encode(SKEncodedImageFormat.Png, 100))
            File.WriteAllBytes(pngTemporary, data.ToArray());
        File.Move(pngTemporary, png, overwrite: true);
        return png;
    }

    /// <summary>The chart as a ScottPlot plot: one scatter line per finite run of each series, in one colour, the first
    /// run named in the legend.</summary>
    private Plot Build()
    {
        var plot = new Plot();
        if (SansFont is { } font) plot.Font.Set(font);
        plot.Title(Title);
        plot.XLabel(XLabel);
        plot.YLabel(YLabel);
        var palette = new ScottPlot.Palettes.Category10();
        for (int s = 0; s < _series.Count; s++)
        {
            Series series = _series[s];
            Color color = palette.GetColor(s);
            bool named = false;
            foreach (var (xs, ys) in FiniteRuns(series))
            {
                var line = plot.Add.Scatter(LogX ? xs.Select(Math.Log10).ToArray() : xs, ys, color);
                line.LineWidth = 2;
                line.MarkerSize = xs.Length <= 30 ? 5 : 0;
                line.LinePattern = series.Dashed ? LinePattern.Dashed : LinePattern.Solid;
                if (!named) line.LegendText = series.Name;
                named = true;
            }
        }
        double[] sweep = _series.SelectMany(s => s.X).Distinct().Order().ToArray();
        if (LogX && sweep.Length is > 0 and <= 12)
            // A sweep's few values (learning rates, batch sizes): a tick at each, labelled with the value itself.
            plot.Axes.Bottom.SetTicks(sweep.Select(Math.Log10).ToArray(), sweep.Select(x => x.ToString("G4", CultureInfo.InvariantCulture)).ToArray());
        else if (LogX)
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                IntegerTicksOnly = true,
                LabelFormatter = v => Math.Pow(10, v).ToString("G4", CultureInfo.InvariantCulture),
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            };
        else if (IntegerX)
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        if (_series.Count > 0)
        {
            plot.ShowLegend();
            plot.Legend.Alignment = EmptiestCorner();
        }
        return plot;
    }

    /// <summary>The corner of the plot with the fewest data points, where the legend hides the least.</summary>
    private Alignment EmptiestCorner()
    {
        var points = _series.SelectMany(s => s.X.Zip(s.Y)).Where(p => double.IsFinite(p.Second))
            .Select(p => (X: LogX ? Math.Log10(p.First) : p.First, Y: p.Second)).ToList();
        if (points.Count == 0) return Alignment.UpperRight;
        double x0 = points.Min(p => p.X), x1 = points.Max(p => p.X), y0 = points.Min(p => p.Y), y1 = points.Max(p => p.Y);
        double Fx(double x) => x1 > x0 ? (x - x0) / (x1 - x0) : 0.5;
        double Fy(double y) => y1 > y0 ? (y - y0) / (y1 - y0) : 0.5;
        (Alignment Corner, Func<double, double, bool> Inside)[] corners =
        [
            (Alignment.UpperRight, (x, y) => x > 0.5 && y > 0.55), (Alignment.LowerRight, (x, y) => x > 0.5 && y < 0.45),
            (Alignment.UpperLeft, (x, y) => x < 0.5 && y > 0.55), (Alignment.LowerLeft, (x, y) => x < 0.5 && y < 0.45),
        ];
        return corners.OrderBy(c => points.Count(p => c.Inside(Fx(p.X), Fy(p.Y)))).First().Corner;
    }

    /// <summary>The series' points split at non-finite y values.</summary>
    private static IEnumerable<(double[] X, double[] Y)> FiniteRuns(Series series)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        for (int i = 0; i <= series.Y.Count; i++)
        {
            if (i < series.Y.Count && double.IsFinite(series.Y[i]))
            {
                xs.Add(series.X[i]);
                ys.Add(series.Y[i]);
                continue;
            }
            if (xs.Count > 0) yield return (xs.ToArray(), ys.ToArray());
            xs.Clear();
            ys.Clear();
        }
    }

    /// <summary>A sans-serif font the machine has, for readable labels (ScottPlot's default may be a serif one), or null.</summary>
    private static readonly string? SansFont = new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica" }
        .FirstOrDefault(name => SKFontManager.Default.MatchFamily(name) is { } typeface && typeface.FamilyName == name);
}
