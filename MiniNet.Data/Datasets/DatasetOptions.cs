using Microsoft.Extensions.Logging;

namespace MiniNet.Data;

/// <summary>How <see cref="IdxImageDataset.Load"/> finds, or downloads, a data set.</summary>
public sealed class DatasetOptions
{
    /// <summary>A folder to use instead of the default search (the files, or a subfolder named after the data set);
    /// downloads go here too.</summary>
    public string? Directory { get; init; }

    /// <summary>Download missing files (default true). Offline, the error says where to put the files.</summary>
    public bool Download { get; init; } = true;

    /// <summary>Where downloads go when <see cref="Directory"/> is not set; default
    /// <c>$XDG_CACHE_HOME/mininet</c> or <c>~/.cache/mininet</c>, plus the data set's name.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>The client used for downloads (default: a shared one with a 10-minute timeout).</summary>
    public HttpClient? HttpClient { get; init; }

    /// <summary>Receives progress and download messages.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Overrides the spec's download addresses (for example a local mirror).</summary>
    public IReadOnlyList<Uri>? Mirrors { get; init; }
}

/// <summary>Thrown when a data set's files are neither found nor downloadable; the message says where to put them.</summary>
public sealed class DatasetNotFoundException(string message, Exception? inner = null) : IOException(message, inner);
