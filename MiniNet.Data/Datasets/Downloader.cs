using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MiniNet.Data;

/// <summary>Downloads a file, verifying its checksum, so that a partial or corrupted download never lands at the target path.</summary>
public static class Downloader
{
    private static readonly Lazy<HttpClient> SharedClient = new(() => new HttpClient { Timeout = TimeSpan.FromMinutes(10) });

    /// <summary>Fetches <paramref name="source"/> into <paramref name="destination"/>: the bytes stream into a temporary file
    /// beside it while their MD5 is computed; only a file whose MD5 equals <paramref name="expectedMd5"/> is renamed into place.</summary>
    /// <remarks>Progress is logged every 10% (when the server sends a length).</remarks>
    /// <exception cref="HttpRequestException">The server could not be reached or answered with an error status.</exception>
    /// <exception cref="InvalidDataException">The checksum differs; nothing is left behind.</exception>
    public static async Task DownloadAsync(Uri source, string destination, string expectedMd5, HttpClient? client = null,
        ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        ArgumentException.ThrowIfNullOrEmpty(expectedMd5);
        client ??= SharedClient.Value;
        logger ??= NullLogger.Instance;
        string directory = Path.GetDirectoryName(Path.GetFullPath(destination))!;
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(destination)}.{Guid.NewGuid():N}.part");
        try
        {
            using HttpResponseMessage response = await client.GetAsync(source, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            response.EnsureSuccessStatusCode();
            long? total = response.Content.Headers.ContentLength;
            logger.LogInformation("Downloading {Source} ({Size})", source, total is { } t ? $"{t / 1024.0 / 1024.0:F1} MiB" : "unknown size");
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            await using (Stream body = await response.Content.ReadAsStreamAsync(cancellationToken))
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                var buffer = new byte[1 << 16];
                long received = 0;
                int lastDecile = 0, read;
                while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    md5.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    received += read;
                    if (total is > 0 && received * 10 / total.Value > lastDecile)
                    {
                        lastDecile = (int)(received * 10 / total.Value);
                        logger.LogInformation("{File}: {Percent}%", Path.GetFileName(destination), lastDecile * 10);
                    }
                }
                await file.FlushAsync(cancellationToken);
            }
            string actual = Convert.ToHexStringLower(md5.GetHashAndReset());
            if (!string.Equals(actual, expectedMd5, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{source}: checksum mismatch: MD5 {actual}, expected {expectedMd5.ToLowerInvariant()}; the download was discarded.");
            File.Move(temporary, destination, overwrite: true);
            logger.LogInformation("Saved {Destination}", destination);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
