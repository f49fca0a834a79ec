using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace MiniNet.Data;

/// <summary>Tabular data from a CSV file (read with CsvHelper): numeric feature columns and a label column, or one or
/// more float target columns (<see cref="LoadTargets"/>), by name.</summary>
/// <remarks>To load a training and a test file, give both the same <c>classes</c> list, so that each label gets the same
/// number in both even when one file lacks a class:
/// <code>
/// string[] classes = ["setosa", "versicolor", "virginica"];
/// TensorDataset train = CsvDataset.Load("train.csv", "species", classes: classes);
/// TensorDataset test = CsvDataset.Load("test.csv", "species", classes: classes);
/// </code>
/// Or take the list from the training file: <c>classes: train.Classes</c>.</remarks>
public static class CsvDataset
{
    /// <summary>Reads <paramref name="path"/> into a dataset of (N, F) features and N labels.</summary>
    /// <param name="path">A CSV file with a header row.</param>
    /// <param name="labelColumn">The label column's header.</param>
    /// <param name="featureColumns">The feature columns' headers, in order; null for every column but the label.</param>
    /// <param name="classes">The class names in label order: a label is its name's index here, and a value the list
    /// lacks is an error. Without it, labels that are all non-negative integers are used as they are; other values are
    /// class names found in this file, numbered in sorted order (numerically when they are all numbers, else ordinally)
    /// and listed in <see cref="TensorDataset.Classes"/>.</param>
    /// <exception cref="InvalidDataException">Not a regular file, a repeated or missing column, a row with the wrong number
    /// of fields, a non-numeric feature, or a label not in <paramref name="classes"/>; the message names the file, the
    /// line and the column.</exception>
    public static TensorDataset Load(string path, string labelColumn, IReadOnlyList<string>? featureColumns = null,
        IReadOnlyList<string>? classes = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(labelColumn);
        using CsvReader csv = Open(path, out string[] header);
        int labelIndex = Columns(path, header, [labelColumn])[0];
        string[] featureNames = featureColumns?.ToArray() ?? header.Where((_, i) => i != labelIndex).ToArray();
        int[] featureIndex = Columns(path, header, featureNames);
        if (featureIndex.Length == 0) throw new InvalidDataException($"{path}: header: no feature columns besides '{labelColumn}'.");

        Dictionary<string, int>? classIndex = null;
        if (classes is not null)
        {
            if (classes.Count == 0) throw new ArgumentException("CsvDataset: classes is empty.", nameof(classes));
            classIndex = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < classes.Count; i++)
                if (!classIndex.TryAdd(classes[i] ?? throw new ArgumentException($"CsvDataset: class {i} is null.", nameof(classes)), i))
                    throw new ArgumentException($"CsvDataset: class '{classes[i]}' appears twice in classes.", nameof(classes));
        }
        var features = new List<float>();
        var rawLabels = new List<string>();
        var labelsByClass = new List<int>();
        while (csv.Read())
        {
            long line = CheckRow(path, csv, header);
            ReadNumbers(path, csv, line, featureIndex, featureNames, features);
            string label = csv.GetField(labelIndex) ?? "";
            if (label.Length == 0) throw new InvalidDataException($"{path}: line {line}: column '{labelColumn}' is empty.");
            if (classIndex is not null)
            {
                if (!classIndex.TryGetValue(label, out int known))
                    throw new InvalidDataException(
                        $"{path}: line {line}: column '{labelColumn}': '{label}' is not one of the classes given ({string.Join(", ", classes!)}).");
                labelsByClass.Add(known);
            }
            rawLabels.Add(label);
        }
        if (rawLabels.Count == 0) throw new InvalidDataException($"{path}: no data rows after the header.");

        int[] labels;
        IReadOnlyList<string>? names = classes?.ToArray();
        if (classIndex is not null)
        {
            labels = labelsByClass.ToArray();
        }
        else if (rawLabels.All(l => int.TryParse(l, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 0))
        {
            labels = rawLabels.Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        }
        else
        {
            // Numbers sort as numbers ("2" before "10", "-1" first), anything else ordinally.
            bool numeric = rawLabels.All(l => double.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
            string[] found = numeric
                ? rawLabels.Distinct().OrderBy(l => double.Parse(l, CultureInfo.InvariantCulture)).ThenBy(l => l, StringComparer.Ordinal).ToArray()
                : rawLabels.Distinct().Order(StringComparer.Ordinal).ToArray();
            var index = found.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i);
            labels = rawLabels.Select(l => index[l]).ToArray();
            names = found;
        }
        return new TensorDataset(Tensor.FromArray(features.ToArray(), labels.Length, featureIndex.Length), labels, names);
    }

    /// <summary>Reads <paramref name="path"/> into a dataset of (N, F) features and (N, T) float targets: regression,
    /// several outputs, or soft targets.</summary>
    /// <param name="path">A CSV file with a header row.</param>
    /// <param name="targetColumns">The target columns' headers, in order (one or more).</param>
    /// <param name="featureColumns">The feature columns' headers, in order; null for every column but the targets.</param>
    /// <exception cref="InvalidDataException">Not a regular file, a repeated or missing column, a column both feature and
    /// target, a row with the wrong number of fields, or a value that is not a finite number; the message names the
    /// file, the line and the column.</exception>
    public static TensorPairDataset LoadTargets(string path, IReadOnlyList<string> targetColumns, IReadOnlyList<string>? featureColumns = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(targetColumns);
        if (targetColumns.Count == 0) throw new ArgumentException("CsvDataset: give at least one target column.", nameof(targetColumns));
        using CsvReader csv = Open(path, out string[] header);
        string[] targetNames = [.. targetColumns];
        int[] targetIndex = Columns(path, header, targetNames);
        string[] featureNames = featureColumns?.ToArray() ?? header.Where((_, i) => !targetIndex.Contains(i)).ToArray();
        int[] featureIndex = Columns(path, header, featureNames);
        if (featureIndex.Length == 0) throw new InvalidDataException($"{path}: header: no feature columns besides the targets ({string.Join(", ", targetNames)}).");
        if (featureNames.FirstOrDefault(targetNames.Contains) is { } both)
            throw new InvalidDataException($"{path}: column '{both}' is given both as a feature and as a target.");
        var features = new List<float>();
        var targets = new List<float>();
        while (csv.Read())
        {
            long line = CheckRow(path, csv, header);
            ReadNumbers(path, csv, line, featureIndex, featureNames, features);
            ReadNumbers(path, csv, line, targetIndex, targetNames, targets);
        }
        if (targets.Count == 0) throw new InvalidDataException($"{path}: no data rows after the header.");
        int rows = targets.Count / targetIndex.Length;
        return new TensorPairDataset(Tensor.FromArray(features.ToArray(), rows, featureIndex.Length),
            Tensor.FromArray(targets.ToArray(), rows, targetIndex.Length), targetNames);
    }

    /// <summary>Opens the file and reads its header, whose names must be unique.</summary>
    private static CsvReader Open(string path, out string[] header)
    {
        MiniNet.IO.RegularFile.Require(path, "CSV");
        var config = new CsvConfiguration(CultureInfo.InvariantCulture) { DetectColumnCountChanges = false, BadDataFound = null };
        var csv = new CsvReader(new StreamReader(path), config);
        try
        {
            if (!csv.Read() || !csv.ReadHeader())
                throw new InvalidDataException($"{path}: line 1: the file is empty; a header row is expected.");
            header = csv.HeaderRecord!;
            for (int i = 0; i < header.Length; i++)
                for (int j = i + 1; j < header.Length; j++)
                    if (header[i] == header[j])
                        throw new InvalidDataException($"{path}: header: column '{header[i]}' appears twice (columns {i + 1} and {j + 1}); names must be unique.");
            return csv;
        }
        catch
        {
            csv.Dispose();
            throw;
        }
    }

    /// <summary>The positions of <paramref name="names"/> in the header.</summary>
    private static int[] Columns(string path, string[] header, IReadOnlyList<string> names)
    {
        if (names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1) is { } repeated)
            throw new InvalidDataException($"{path}: column '{repeated.Key}' is asked for {repeated.Count()} times; name each column once.");
        return [.. names.Select(name =>
        {
            int i = Array.IndexOf(header, name);
            return i >= 0 ? i : throw new InvalidDataException($"{path}: header: no column '{name}' (columns: {string.Join(", ", header)}).");
        })];
    }

    /// <summary>The current row's line number, after checking its field count against the header's.</summary>
    private static long CheckRow(string path, CsvReader csv, string[] header)
    {
        long line = csv.Parser.RawRow;
        if (csv.Parser.Count != header.Length)
            throw new InvalidDataException($"{path}: line {line}: {csv.Parser.Count} fields, the header has {header.Length}.");
        return line;
    }

    /// <summary>Appends the current row's values of the given columns, each a finite number.</summary>
    private static void ReadNumbers(string path, CsvReader csv, long line, int[] columns, string[] names, List<float> values)
    {
        for (int k = 0; k < columns.Length; k++)
        {
            string text = csv.GetField(columns[k]) ?? "";
            if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
                throw new InvalidDataException($"{path}: line {line}: column '{names[k]}': '{text}' is not a finite number.");
            values.Add(value);
        }
    }
}
