using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace MiniNet;

/// <summary>The one place where MiniNet's libraries report warnings (a bias that a following BatchNorm cancels, a
/// <see cref="TensorScope"/> that was never disposed, …).</summary>
/// <remarks>By default each distinct warning is written once to standard error, as <c>warning: …</c>, so that a user
/// who configured nothing still sees it (as Python's warnings do). Route them through Microsoft.Extensions.Logging by
/// setting <see cref="Logger"/>, e.g. <c>MiniNetLogging.Logger = loggerFactory.CreateLogger("MiniNet")</c>, or silence
/// them with <c>NullLogger.Instance</c>.</remarks>
public static class MiniNetLogging
{
    private static ILogger s_logger = new OncePerCauseConsoleLogger();

    /// <summary>The logger MiniNet's libraries write to (see the remarks for the default).</summary>
    public static ILogger Logger
    {
        get => Volatile.Read(ref s_logger);
        set => Volatile.Write(ref s_logger, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>The default: warnings and errors to standard error, each distinct message once per process. A few lines
    /// of its own rather than Microsoft.Extensions.Logging.Console, whose background queue can lose a last message when
    /// a short program exits.</summary>
    internal sealed class OncePerCauseConsoleLogger : ILogger
    {
        private readonly ConcurrentDictionary<string, bool> _seen = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            string message = formatter(state, exception);
            if (!_seen.TryAdd(message, true)) return;   // once per cause: the same message again is the same cause
            Console.Error.WriteLine($"{(logLevel >= LogLevel.Error ? "error" : "warning")}: {message}");
        }
    }
}
