using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MiniNet.Data;

/// <summary>Loads MNIST-style image data sets (IDX files) as a <see cref="TensorDataset"/> of (N, 1, H, W) images scaled to [0, 1].</summary>
/// <remarks>
/// Search order for the files (gzip or raw): <see cref="DatasetOptions.Directory"/> if given; otherwise the
/// <c>MININET_DATA</c> environment variable, <c>./data</c> (each as is and with the data set's name appended), the
/// spec's system folders (Debian's <c>dataset-fashion-mnist</c> installs Fashion-MNIST into
/// <c>/usr/share/datasets/fashion-mnist</c>), and the download cache. Files that are absent are downloaded from the
/// spec's addresses into the cache, each verified against the publisher's MD5.
/// </remarks>
public static class IdxImageDataset
{
    /// <summary>The environment variable naming a folder of data sets.</summary>
    public const string EnvironmentVariable = "MININET_DATA";

    /// <summary>Finds (or downloads) and reads one split.</summary>
    /// <exception cref="DatasetNotFoundException">The files are absent and could not be downloaded; the message lists the folders searched and the package to install.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt, or images and labels disagree.</exception>
    public static TensorDataset Load(IdxDatasetSpec spec, Split split, DatasetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        options ??= new DatasetOptions();
        var (images, labels) = spec.FilesOf(split);
        string folder = Locate(spec, [images.File, labels.File], options, out List<string> searched)
            ?? DownloadInto(spec, [images, labels], options, searched);
        return Read(FindFile(folder, images.File)!, FindFile(folder, labels.File)!, spec.Classes);
    }

    /// <summary>Reads an images file (N, H, W) and a labels file (N) into a dataset of (N, 1, H, W) images in [0, 1].</summary>
    /// <exception cref="InvalidDataException">Wrong ranks, a count mismatch, or a label outside the class list.</exception>
    public static TensorDataset Read(string imagesPath, string labelsPath, IReadOnlyList<string>? classes = null)
    {
        // The pixels are decompressed and scaled straight into the tensor's array (no byte copy of the images, no clone).
        IdxData labels = IdxReader.Read(labelsPath);
        if (labels.Dimensions.Length != 1)
            throw new InvalidDataException($"{labelsPath}: dimensions: expected (N) labels, got ({string.Join(", ", labels.Dimensions)}).");
        (int[] dimensions, float[] pixels) = IdxReader.ReadScaled(imagesPath, 1f / 255f);
        if (dimensions.Length != 3)
            throw new InvalidDataException($"{imagesPath}: dimensions: expected (N, H, W) images, got ({string.Join(", ", dimensions)}).");
        int n = dimensions[0], h = dimensions[1], w = dimensions[2];
        if (labels.Dimensions[0] != n)
            throw new InvalidDataException($"{labelsPath}: count: {labels.Dimensions[0]} labels for {n} images in {imagesPath}.");
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = labels.Values[i];
            if (classes is not null && y[i] >= classes.Count)
                throw new InvalidDataException($"{labelsPath}: label {i}: {y[i]} is not below the {classes.Count} classes.");
        }
        return new TensorDataset(Tensor.Wrap(pixels, n, 1, h, w), y, classes);
    }

    /// <summary>The folders searched, in order, when no explicit directory is given.</summary>
    public static IReadOnlyList<string> SearchFolders(IdxDatasetSpec spec, DatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Directory is { } explicitFolder) return [explicitFolder, Path.Combine(explicitFolder, spec.Name)];
        var folders = new List<string>();
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } env)
            folders.AddRange([env, Path.Combine(env, spec.Name)]);
        string local = Path.Combine(Environment.CurrentDirectory, "data");
        folders.AddRange([local, Path.Combine(local, spec.Name)]);
        folders.AddRange(spec.SystemDirectories);
        folders.Add(CacheFolder(spec, options));
        return folders;
    }

    private static string? Locate(IdxDatasetSpec spec, string[] files, DatasetOptions options, out List<string> searched)
    {
        searched = [.. SearchFolders(spec, options)];
        return searched.FirstOrDefault(folder => files.All(f => FindFile(folder, f) is not null));
    }

    /// <summary>The gzip file, or its decompressed twin (the name without ".gz"), in <paramref name="folder"/>.</summary>
    private static string? FindFile(string folder, string gzipName)
    {
        string gz = Path.Combine(folder, gzipName), raw = Path.Combine(folder, Path.GetFileNameWithoutExtension(gzipName));
        return File.Exists(gz) ? gz : File.Exists(raw) ? raw : null;
    }

    private static string CacheFolder(IdxDatasetSpec spec, DatasetOptions options)
    {
        if (options.CacheDirectory is { } cache) return Path.Combine(cache, spec.Name);
        string root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "mininet", spec.Name);
    }

    private static string DownloadInto(IdxDatasetSpec spec, (string File, string Md5)[] files, DatasetOptions options, List<string> searched)
    {
        string target = options.Directory ?? CacheFolder(spec, options);
        string Advice(string why) =>
            $"{spec.DisplayName}: {string.Join(" and ", files.Select(f => f.File))} not found. Searched: {string.Join(", ", searched)}. " +
            $"Put the files (gzip or raw IDX) in one of these folders, or point {EnvironmentVariable} at a folder holding them" +
            (spec.Package is null ? "" : $", or install Debian's package: apt-get install -y {spec.Package} (as root; sudo apt-get otherwise)") + $". {why}";
        if (!options.Download) throw new DatasetNotFoundException(Advice("Downloading is turned off."));

        ILogger logger = options.Logger ?? NullLogger.Instance;
        IReadOnlyList<Uri> mirrors = options.Mirrors ?? spec.Mirrors;
        foreach (var (file, md5) in files)
        {
            if (FindFile(target, file) is not null) continue;
            var failures = new List<string>();
            bool done = false;
            foreach (Uri mirror in mirrors)
            {
                var source = new Uri(mirror, file);
                try
                {
                    Downloader.DownloadAsync(source, Path.Combine(target, file), md5, options.HttpClient, logger).GetAwaiter().GetResult();
                    done = true;
                    break;
                }
                catch (Exception e) when (e is HttpRequestException or InvalidDataException or IOException or TaskCanceledException or UnauthorizedAccessException)
                {
                    logger.LogWarning("Download of {Source} failed: {Reason}", source, e.Message);
                    failures.Add($"{source}: {e.Message}");
                }
            }
            if (!done)
                throw new DatasetNotFoundException(Advice("Download failed: " + string.Join("; ", failures)));
        }
        return target;
    }
}
