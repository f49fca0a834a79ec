using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace MiniNet.Data;

/// <summary>Tabular data from a CSV file (read with CsvHelper): numeric feature columns and a label column, by name.</summary>
public static class CsvDataset
{
    /// <summary>Reads <paramref name="path"/> into a dataset of (N, F) features and N labels.</summary>
    /// <param name="path">A CSV file with a header row.</param>
    /// <param name="labelColumn">The label column's header. Integer labels are used as they are; other values are
    /// class names, numbered in sorted (ordinal) order and listed in <see cref="TensorDataset.Classes"/>.</param>
    /// <param name="featureColumns">The feature columns' headers, in order; null for every column but the label.</param>
    /// <exception cref="InvalidDataException">A missing column, a row with the wrong number of fields, or a non-numeric
    /// feature; the message names the file, the line and the column.</exception>
    public static TensorDataset Load(string path, string labelColumn, IReadOnlyList<string>? featureColumns = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(labelColumn);
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV: no file '{path}'.", path);
        var config = new CsvConfiguration(CultureInfo.InvariantCulture) { DetectColumnCountChanges = false, BadDataFound = null };
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, config);
        if (!csv.Read() || !csv.ReadHeader())
            throw new InvalidDataException($"{path}: line 1: the file is empty; a header row is expected.");
        string[] header = csv.HeaderRecord!;
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

        var features = new List<float>();
        var rawLabels = new List<string>();
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
            rawLabels.Add(label);
        }
        if (rawLabels.Count == 0) throw new InvalidDataException($"{path}: no data rows after the header.");

        int[] labels;
        IReadOnlyList<string>? classes = null;
        if (rawLabels.All(l => int.TryParse(l, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 0))
        {
            labels = rawLabels.Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        }
        else
        {
            string[] names = rawLabels.Distinct().Order(StringComparer.Ordinal).ToArray();
            var index = names.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i);
            labels = rawLabels.Select(l => index[l]).ToArray();
            classes = names;
        }
        return new TensorDataset(Tensor.FromArray(features.ToArray(), labels.Length, featureIndex.Length), labels, classes);
    }
}
