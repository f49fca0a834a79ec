using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace MiniNet;

/// <summary>Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian data. Any safetensors reader can open the files.</summary>
/// <remarks>Tensors are written as F32. Reading accepts F32, F64 and I64 (PyTorch stores <c>num_batches_tracked</c>
/// as I64) and converts to float32. Every length, offset and shape is checked against the file's size before anything
/// is allocated, and a bad file raises <see cref="InvalidDataException"/> naming the file and the field.</remarks>
public static class Safetensors
{
    /// <summary>Headers larger than this are rejected as corrupt (the reference implementation's limit).</summary>
    public const int MaxHeaderBytes = 100_000_000;

    /// <summary>Writes the tensors to <paramref name="path"/> atomically: a temporary file beside it is written,
    /// flushed to disk and renamed over the target, so a crash mid-save leaves any previous file intact.</summary>
    /// <exception cref="ArgumentException">A name is empty, repeated, or "__metadata__".</exception>
    /// <exception cref="IOException">The folder does not exist or is not writable.</exception>
    public static void Save(IEnumerable<KeyValuePair<string, Tensor>> tensors, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var entries = tensors.ToList();
        var names = new HashSet<string>();
        foreach (var (name, _) in entries)
        {
            if (string.IsNullOrEmpty(name) || name == "__metadata__" || !names.Add(name))
                throw new ArgumentException($"Safetensors: tensor name '{name}' is empty, reserved or repeated.", nameof(tensors));
        }

        byte[] header = BuildHeader(entries, metadata);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Safetensors: cannot save '{path}': folder '{directory}' does not exist.");
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                stream.Write(length);
                stream.Write(header);
                foreach (var (_, tensor) in entries) WriteFloats(stream, tensor.Data);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Reads every tensor of a safetensors file, in file order.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is truncated, its header malformed, or a range or dtype invalid; the message names the file and the field.</exception>
    public static OrderedDictionary<string, Tensor> Load(string path) => Load(path, out _);

    /// <summary>Reads every tensor and the header's string metadata.</summary>
    public static OrderedDictionary<string, Tensor> Load(string path, out IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Safetensors: no file '{path}'.", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw new InvalidDataException($"{path}: header length: the file has {fileLength} bytes, fewer than the 8-byte length field.");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes || headerLength > (ulong)(fileLength - 8))
            throw new InvalidDataException(
                $"{path}: header length: the field claims {headerLength} bytes but the file has {fileLength - 8} after it (limit {MaxHeaderBytes}).");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataLength = fileLength - 8 - (long)headerLength;
        if (dataLength > Array.MaxLength)
            throw new InvalidDataException($"{path}: data section: {dataLength} bytes is more than one array can hold.");

        var specs = ParseHeader(path, header, dataLength, out metadata);
        var data = new byte[dataLength];
        stream.ReadExactly(data);
        var result = new OrderedDictionary<string, Tensor>();
        foreach (var spec in specs) result.Add(spec.Name, Decode(spec, data));
        return result;
    }

    private sealed record Spec(string Name, string Dtype, int[] Shape, long Begin, long End);

    private static byte[] BuildHeader(List<KeyValuePair<string, Tensor>> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in entries)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int d in tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += 4L * tensor.Numel;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Pad with spaces to a multiple of 8 so that the data section is aligned, as the reference writer does.
        int padded = (int)((buffer.Length + 7) / 8 * 8);
        while (buffer.Length < padded) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static List<Spec> ParseHeader(string path, byte[] header, long dataLength, out IReadOnlyDictionary<string, string> metadata)
    {
        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw new InvalidDataException($"{path}: header: not valid UTF-8.");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: header: not valid JSON ({e.Message}).", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: header: expected a JSON object, found {document.RootElement.ValueKind}.");
            var specs = new List<Spec>();
            var meta = new Dictionary<string, string>();
            var names = new HashSet<string>();
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                    throw new InvalidDataException($"{path}: {property.Name}: the header names this entry twice.");
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new InvalidDataException($"{path}: __metadata__: expected an object of strings.");
                    foreach (JsonProperty m in property.Value.EnumerateObject())
                        meta[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                    continue;
                }
                specs.Add(ParseSpec(path, property, dataLength));
            }
            // The data section must be covered exactly: no overlaps, no holes, nothing past the end.
            long expected = 0;
            foreach (Spec s in specs.OrderBy(s => s.Begin).ThenBy(s => s.End))
            {
                if (s.Begin != expected)
                    throw new InvalidDataException(
                        $"{path}: {s.Name}.data_offsets: begins at byte {s.Begin}, expected {expected} (tensors must tile the data section without overlaps or gaps).");
                expected = s.End;
            }
            if (expected != dataLength)
                throw new InvalidDataException($"{path}: data section: tensors cover {expected} bytes but the file holds {dataLength}.");
            metadata = meta;
            return specs;
        }
    }

    private static Spec ParseSpec(string path, JsonProperty property, long dataLength)
    {
        string name = property.Name;
        JsonElement e = property.Value;
        if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: {name}: expected an object.");
        if (!e.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"{path}: {name}.dtype: missing or not a string.");
        string dtype = dtypeElement.GetString()!;
        int width = dtype switch
        {
            "F32" => 4,
            "F64" or "I64" => 8,
            _ => throw new InvalidDataException($"{path}: {name}.dtype: '{dtype}' is not supported (F32, F64, I64).")
        };
        if (!e.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}: {name}.shape: missing or not an array.");
        var shape = new int[shapeElement.GetArrayLength()];
        long numel = 1;
        int i = 0;
        foreach (JsonElement d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int size) || size < 0)
                throw new InvalidDataException($"{path}: {name}.shape: dimension {i} is {d.GetRawText()}, not a non-negative 32-bit integer.");
            shape[i++] = size;
            numel *= size;
            if (numel > Array.MaxLength)
                throw new InvalidDataException($"{path}: {name}.shape: {Shapes.Format(shape)} has more elements than a tensor can hold.");
        }
        if (!e.TryGetProperty("data_offsets", out JsonElement offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new InvalidDataException($"{path}: {name}.data_offsets: missing or not a pair [begin, end].");
        if (offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin || end > dataLength)
            throw new InvalidDataException(
                $"{path}: {name}.data_offsets: [{offsets[0].GetRawText()}, {offsets[1].GetRawText()}] is not a range inside the {dataLength}-byte data section.");
        if (end - begin != numel * width)
            throw new InvalidDataException(
                $"{path}: {name}.data_offsets: {end - begin} bytes, but {dtype} of shape {Shapes.Format(shape)} needs {numel * width}.");
        return new Spec(name, dtype, shape, begin, end);
    }

    private static Tensor Decode(Spec spec, byte[] data)
    {
        ReadOnlySpan<byte> bytes = data.AsSpan((int)spec.Begin, (int)(spec.End - spec.Begin));
        Tensor t = Tensor.Zeros(spec.Shape);
        Span<float> dst = t.Data;
        if (spec.Dtype == "F32" && BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(bytes).CopyTo(dst);
            return t;
        }
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = spec.Dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4, 4)),
                "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(i * 8, 8)),
                _ => BinaryPrimitives.ReadInt64LittleEndian(bytes.Slice(i * 8, 8)),
            };
        }
        return t;
    }

    private static void WriteFloats(Stream stream, ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }
        Span<byte> four = stackalloc byte[4];
        foreach (float v in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(four, v);
            stream.Write(four);
        }
    }
}
