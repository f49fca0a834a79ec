using System.Globalization;
using System.Security;
using System.Text;

namespace MiniNet.Samples;

/// <summary>One line on a chart: points (x, y) in order. Non-finite y values leave a gap.</summary>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, bool Dashed = false);

/// <summary>A small SVG line chart: axes with "nice" ticks, axis labels, a title, several series and a legend;
/// the x axis can be logarithmic. Several charts can share one file (<see cref="SaveFigure"/>).</summary>
/// <remarks>No plotting package is available here, so MiniNet writes SVG itself: plain text any browser displays.</remarks>
public sealed class SvgLineChart
{
    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
    private readonly List<Series> _series = [];

    /// <summary>Title above the plot.</summary>
    public string Title { get; init; } = "";

    /// <summary>Label under the x axis.</summary>
    public string XLabel { get; init; } = "";

    /// <summary>Label beside the y axis.</summary>
    public string YLabel { get; init; } = "";

    /// <summary>Logarithmic x axis (every x must be positive).</summary>
    public bool LogX { get; init; }

    /// <summary>Width of one chart in pixels.</summary>
    public int Width { get; init; } = 560;

    /// <summary>Height of one chart in pixels.</summary>
    public int Height { get; init; } = 380;

    /// <summary>The series added so far.</summary>
    public IReadOnlyList<Series> Series => _series;

    /// <summary>Adds a series.</summary>
    /// <exception cref="ArgumentException">X and Y differ in length, or (log x) an x is not positive.</exception>
    public SvgLineChart Add(Series series)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.X.Count != series.Y.Count)
            throw new ArgumentException($"Series '{series.Name}': {series.X.Count} x values but {series.Y.Count} y values.", nameof(series));
        if (series.X.Any(x => !double.IsFinite(x) || (LogX && x <= 0)))
            throw new ArgumentException($"Series '{series.Name}': x values must be finite{(LogX ? " and positive on a log axis" : "")}.", nameof(series));
        _series.Add(series);
        return this;
    }

    /// <summary>The chart as a standalone SVG document.</summary>
    public string Render() => Document([this]);

    /// <summary>Writes charts side by side into one SVG file (written to a temporary file, then renamed).</summary>
    public static void SaveFigure(string path, params SvgLineChart[] charts)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (charts.Length == 0) throw new ArgumentException("SaveFigure: give at least one chart.", nameof(charts));
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, Document(charts));
        File.Move(temporary, path, overwrite: true);
    }

    private static string Document(IReadOnlyList<SvgLineChart> charts)
    {
        int width = charts.Sum(c => c.Width), height = charts.Max(c => c.Height);
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" "))
           .Append("font-family=\"sans-serif\" font-size=\"12\">\n")
           .Append(Invariant($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n"));
        int left = 0;
        foreach (SvgLineChart chart in charts)
        {
            svg.Append(Invariant($"<g transform=\"translate({left},0)\">\n"));
            chart.Draw(svg);
            svg.Append("</g>\n");
            left += chart.Width;
        }
        return svg.Append("</svg>\n").ToString();
    }

    private void Draw(StringBuilder svg)
    {
        const int marginLeft = 62, marginRight = 16, marginTop = 34, marginBottom = 48;
        double plotW = Width - marginLeft - marginRight, plotH = Height - marginTop - marginBottom;
        var points = _series.SelectMany(s => s.X.Zip(s.Y)).Where(p => double.IsFinite(p.Second)).ToList();
        (double xMin, double xMax) = points.Count == 0 ? (0, 1) : (points.Min(p => p.First), points.Max(p => p.First));
        (double yMin, double yMax) = points.Count == 0 ? (0, 1) : (points.Min(p => p.Second), points.Max(p => p.Second));
        double[] xTicks = LogX ? LogTicks(ref xMin, ref xMax) : NiceTicks(ref xMin, ref xMax);
        double[] yTicks = NiceTicks(ref yMin, ref yMax);

        double Px(double x) => marginLeft + plotW * (LogX ? (Math.Log10(x) - Math.Log10(xMin)) / (Math.Log10(xMax) - Math.Log10(xMin)) : (x - xMin) / (xMax - xMin));
        double Py(double y) => marginTop + plotH * (1 - (y - yMin) / (yMax - yMin));

        svg.Append(Invariant($"<text x=\"{Width / 2.0}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{Escape(Title)}</text>\n"));
        // Grid, ticks and tick labels.
        foreach (double t in xTicks)
        {
            double x = Px(t);
            svg.Append(Invariant($"<line x1=\"{x:F1}\" y1=\"{marginTop}\" x2=\"{x:F1}\" y2=\"{marginTop + plotH:F1}\" stroke=\"#e5e5e5\"/>\n"));
            svg.Append(Invariant($"<text x=\"{x:F1}\" y=\"{marginTop + plotH + 16:F1}\" text-anchor=\"middle\" class=\"xtick\">{Escape(Format(t))}</text>\n"));
        }
        foreach (double t in yTicks)
        {
            double y = Py(t);
            svg.Append(Invariant($"<line x1=\"{marginLeft}\" y1=\"{y:F1}\" x2=\"{marginLeft + plotW:F1}\" y2=\"{y:F1}\" stroke=\"#e5e5e5\"/>\n"));
            svg.Append(Invariant($"<text x=\"{marginLeft - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\" class=\"ytick\">{Escape(Format(t))}</text>\n"));
        }
        svg.Append(Invariant($"<rect x=\"{marginLeft}\" y=\"{marginTop}\" width=\"{plotW:F1}\" height=\"{plotH:F1}\" fill=\"none\" stroke=\"black\"/>\n"));
        svg.Append(Invariant($"<text x=\"{marginLeft + plotW / 2:F1}\" y=\"{Height - 10}\" text-anchor=\"middle\">{Escape(XLabel)}</text>\n"));
        svg.Append(Invariant($"<text transform=\"translate(16,{marginTop + plotH / 2:F1}) rotate(-90)\" text-anchor=\"middle\">{Escape(YLabel)}</text>\n"));

        // Series: one polyline per unbroken run of finite points.
        for (int i = 0; i < _series.Count; i++)
        {
            Series s = _series[i];
            string color = Palette[i % Palette.Length], dash = s.Dashed ? " stroke-dasharray=\"6 4\"" : "";
            var run = new List<string>();
            void Flush()
            {
                if (run.Count > 0)
                    svg.Append($"<polyline class=\"series\" data-series=\"{Escape(s.Name)}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{dash} points=\"{string.Join(' ', run)}\"/>\n");
                run.Clear();
            }
            for (int k = 0; k < s.X.Count; k++)
            {
                if (double.IsFinite(s.Y[k])) run.Add(Invariant($"{Px(s.X[k]):F1},{Py(s.Y[k]):F1}"));
                else Flush();
            }
            Flush();
        }

        // Legend, top right inside the plot.
        double legendX = marginLeft + plotW - 8, legendY = marginTop + 8;
        double boxWidth = 34 + 7 * _series.DefaultIfEmpty(new Series("", [], [])).Max(s => s.Name.Length);
        if (_series.Count > 0)
            svg.Append(Invariant($"<rect x=\"{legendX - boxWidth:F1}\" y=\"{legendY:F1}\" width=\"{boxWidth:F1}\" height=\"{8 + 18 * _series.Count}\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"/>\n"));
        for (int i = 0; i < _series.Count; i++)
        {
            double y = legendY + 16 + 18 * i, x0 = legendX - boxWidth + 6;
            string dash = _series[i].Dashed ? " stroke-dasharray=\"6 4\"" : "";
            svg.Append(Invariant($"<line x1=\"{x0:F1}\" y1=\"{y - 4:F1}\" x2=\"{x0 + 20:F1}\" y2=\"{y - 4:F1}\" stroke=\"{Palette[i % Palette.Length]}\" stroke-width=\"2\"{dash}/>\n"));
            svg.Append(Invariant($"<text x=\"{x0 + 26:F1}\" y=\"{y:F1}\" class=\"legend\">{Escape(_series[i].Name)}</text>\n"));
        }
    }

    /// <summary>Ticks at 1, 2 or 5 × 10^k spacing; widens [min, max] to whole ticks.</summary>
    internal static double[] NiceTicks(ref double min, ref double max)
    {
        if (max - min < 1e-12 * Math.Max(1, Math.Abs(max))) { min -= 0.5; max += 0.5; }
        double rough = (max - min) / 5, magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough))), ratio = rough / magnitude;
        double step = (ratio < 1.5 ? 1 : ratio < 3 ? 2 : ratio < 7 ? 5 : 10) * magnitude;
        min = Math.Floor(min / step + 1e-9) * step;
        max = Math.Ceiling(max / step - 1e-9) * step;
        var ticks = new List<double>();
        for (double t = min; t <= max + step * 1e-6; t += step) ticks.Add(Math.Round(t / step) * step);
        return [.. ticks];
    }

    /// <summary>Ticks at powers of ten; widens [min, max] to whole decades.</summary>
    internal static double[] LogTicks(ref double min, ref double max)
    {
        int lo = (int)Math.Floor(Math.Log10(min) + 1e-9), hi = (int)Math.Ceiling(Math.Log10(max) - 1e-9);
        if (hi == lo) hi++;
        (min, max) = (Math.Pow(10, lo), Math.Pow(10, hi));
        return Enumerable.Range(lo, hi - lo + 1).Select(e => Math.Pow(10, e)).ToArray();
    }

    private static string Format(double v) => v.ToString(Math.Abs(v) >= 1e5 || (v != 0 && Math.Abs(v) < 1e-3) ? "0.#E+0" : "0.####", CultureInfo.InvariantCulture);

    private static string Escape(string text) => SecurityElement.Escape(text) ?? "";

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
