using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace MiniNet.Data;

/// <summary>Appends one CSV row per record (e.g. per epoch) to a file, through CsvHelper; the header comes from the
/// record type's public properties and is written once, when the file is new or empty.</summary>
/// <remarks>Each <see cref="Append"/> opens, writes, flushes and closes the file, so a crash loses at most the row being written.</remarks>
public sealed class MetricsWriter<T>
{
    private static readonly CsvConfiguration Config = new(CultureInfo.InvariantCulture);

    /// <summary>Writes to <paramref name="path"/>; its folder must exist.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public MetricsWriter(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder))
            throw new DirectoryNotFoundException($"MetricsWriter: folder '{folder}' for '{path}' does not exist.");
        Path = path;
    }

    /// <summary>The CSV file.</summary>
    public string Path { get; }

    /// <summary>Appends <paramref name="record"/> as one row.</summary>
    public void Append(T record)
    {
        bool writeHeader = !File.Exists(Path) || new FileInfo(Path).Length == 0;
        using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        using var writer = new StreamWriter(stream);
        using var csv = new CsvWriter(writer, Config);
        if (writeHeader)
        {
            csv.WriteHeader<T>();
            csv.NextRecord();
        }
        csv.WriteRecord(record);
        csv.NextRecord();
    }
}
