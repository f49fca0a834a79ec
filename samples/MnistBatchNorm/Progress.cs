using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace MnistBatchNorm;

/// <summary>An epoch's progress: a live bar on an interactive terminal; plain lines, a few per epoch, when the output
/// goes to a pipe or a file, or when <c>NO_COLOR</c> is set or <c>TERM=dumb</c>.</summary>
public static class EpochProgress
{
    /// <summary>Whether standard output is a terminal that takes colours and cursor movement.</summary>
    public static bool Interactive =>
        !Console.IsOutputRedirected
        && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
        && !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);

    /// <summary>Runs <paramref name="body"/>, which calls the action it is given once per finished step with the current
    /// description, and shows the progress of <paramref name="steps"/> steps.</summary>
    public static void Run(string title, int steps, Action<Action<string>> body)
    {
        if (Interactive)
        {
            AnsiConsole.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    ProgressTask task = context.AddTask(title, maxValue: steps);
                    body(description =>
                    {
                        task.Description = description;
                        task.Increment(1);
                    });
                });
            return;
        }
        var plain = new PlainLines(Console.Out, steps);
        body(plain.Step);
    }

    /// <summary>Plain progress: a line at each further tenth of the steps, and at most every <see cref="MinimumSeconds"/> seconds even
    /// then, so that a log shows progress without a line per batch.</summary>
    public sealed class PlainLines(TextWriter writer, int steps)
    {
        private const double MinimumSeconds = 2;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private int _done, _nextTenth = 1;
        private double _lastLine = double.NegativeInfinity;

        /// <summary>Counts one finished step, described by <paramref name="description"/>.</summary>
        public void Step(string description)
        {
            _done++;
            bool tenth = _done * 10L >= (long)_nextTenth * steps;
            if (!tenth) return;
            while (_done * 10L >= (long)_nextTenth * steps) _nextTenth++;
            double now = _clock.Elapsed.TotalSeconds;
            if (_done < steps && now - _lastLine < MinimumSeconds) return;
            _lastLine = now;
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{description} [{_done}/{steps} batches, {100.0 * _done / steps:F0}%]"));
        }
    }
}
