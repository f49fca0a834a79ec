using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace MiniNet.Data;

/// <summary>Tabular data from a CSV file (read with CsvHelper): numeric feature columns and a label column, by name.</summary>
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
        MiniNet.IO.RegularFile.Require(path, "CSV");
        var config = new CsvConfiguration(CultureInfo.InvariantCulture) { DetectColumnCountChanges = false, BadDataFound = null };
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, config);
        if (!csv.Read() || !csv.ReadHeader())
            throw new InvalidDataException($"{path}: line 1: the file is empty; a header row is expected.");
        string[] header = csv.HeaderRecord!;
        for (int i = 0; i < header.Length; i++)
            for (int j = i + 1; j < header.Length; j++)
                if (header[i] == header[j])
                    throw new InvalidDataException($"{path}: header: column '{header[i]}' appears twice (columns {i + 1} and {j + 1}); names must be unique.");
        int labelIndex = Array.IndexOf(header, labelColumn);
        if (labelIndex < 0)
            throw new InvalidDataException($"{path}: header: no column '{labelColumn}' (columns: {string.Join(", ", header)}).");
        string[] featureNames = featureColumns?.ToArray() ?? header.Where((_, i) => i != labelIndex).ToArray();
        int[] featureIndex = featureNames.Select(name =>
        {
            int i = Array.IndexOf(header, name);
            return i >= 0 ? i : throw new InvalidDataException($"{path}: header: no column '{name}' (columns: {string.Join(", ", header)}).");
        }).ToArray();
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
            long line = csv.Parser.RawRow;
            if (csv.Parser.Count != header.Length)
                throw new InvalidDataException($"{path}: line {line}: {csv.Parser.Count} fields, the header has {header.Length}.");
            for (int k = 0; k < featureIndex.Length; k++)
            {
                string text = csv.GetField(featureIndex[k]) ?? "";
                if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
                    throw new InvalidDataException($"{path}: line {line}: column '{featureNames[k]}': '{text}' is not a finite number.");
                features.Add(value);
            }
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
}
