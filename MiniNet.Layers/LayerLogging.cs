using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MiniNet.Layers;

/// <summary>Where MiniNet.Layers reports warnings (for example a bias that a following BatchNorm cancels). Silent by default.</summary>
public static class LayerLogging
{
    /// <summary>The logger used when a constructor is not given one.</summary>
    public static ILogger Logger { get; set; } = NullLogger.Instance;
}
