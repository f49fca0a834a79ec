using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using MiniNet.IO;

namespace MiniNet;

/// <summary>Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian data. Any safetensors reader can open the files.</summary>
/// <remarks>Float32 tensors are written as F32, int64 ones as I64, bool ones as BOOL. Reading accepts F32, F16, BF16
/// and F64 (as float32: an F64 value beyond float32's range is refused, naming the key), I64, I32, I16, I8 and U8 (as
/// int64) and BOOL. Every length, offset and shape is checked against the file's size, and the allocation against
/// <see cref="ReaderLimits"/>, before anything is allocated; a bad file raises <see cref="InvalidDataException"/> naming
/// the file and the field.</remarks>
public static class Safetensors
{
    /// <summary>Headers larger than this are rejected as corrupt (the reference implementation's limit).</summary>
    public const int MaxHeaderBytes = 100_000_000;

    /// <summary>Writes the tensors to <paramref name="path"/> atomically: a temporary file beside it is written,
    /// flushed to disk and renamed over the target, so a crash mid-save leaves any previous file intact. Temporary files
    /// that earlier saves of the same target left behind (a process killed mid-save) are removed first, unless another
    /// process is still writing one.</summary>
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
        RemoveStaleTemporaries(directory, Path.GetFileName(full));
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                stream.Write(length);
                stream.Write(header);
                foreach (var (_, tensor) in entries) WriteValues(stream, tensor);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Deletes the temporaries of earlier saves of <paramref name="fileName"/> (".NAME.GUID.tmp") that nobody
    /// holds open: a save that is still under way in another process keeps its file locked (FileShare.None), and a
    /// killed one leaves it unlocked.</summary>
    private static void RemoveStaleTemporaries(string directory, string fileName)
    {
        foreach (string stale in Directory.EnumerateFiles(directory, $".{fileName}.*.tmp"))
        {
            try
            {
                using (new FileStream(stale, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
                File.Delete(stale);
            }
            catch (IOException) { }                    // in use by a save under way, or gone already
            catch (UnauthorizedAccessException) { }    // not ours to remove
        }
    }

    /// <summary>Reads every tensor of a safetensors file, in file order.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a regular file, truncated, its header malformed, a range or dtype
    /// invalid, a value beyond float32's range, or more than <see cref="ReaderLimits"/> allow; the message names the
    /// file and the field.</exception>
    public static OrderedDictionary<string, Tensor> Load(string path) => Load(path, out _);

    /// <summary>Reads every tensor and the header's string metadata.</summary>
    public static OrderedDictionary<string, Tensor> Load(string path, out IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RegularFile.Require(path, "safetensors");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw new InvalidDataException($"{path}: header length: the file has {fileLength} bytes, fewer than the 8-byte length field.");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes || headerLength > (ulong)(fileLength - 8))
        {
            if (LooksLikeText(lengthBytes))
                throw new InvalidDataException(
                    $"{path}: not a safetensors file: it begins with text (\"{Encoding.ASCII.GetString(lengthBytes)}\"), not an 8-byte header length.");
            throw new InvalidDataException(
                $"{path}: header length: the field claims {headerLength} bytes but the file has {fileLength - 8} after it (limit {MaxHeaderBytes}).");
        }
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataLength = fileLength - 8 - (long)headerLength;
        if (dataLength > Array.MaxLength)
            throw new InvalidDataException($"{path}: data section: {dataLength} bytes is more than one array can hold.");

        var specs = ParseHeader(path, header, dataLength, out metadata);
        ReaderLimits.Check(path, "data section", dataLength + specs.Sum(s => s.Numel * 8L));
        var data = new byte[dataLength];
        stream.ReadExactly(data);
        var result = new OrderedDictionary<string, Tensor>();
        foreach (var spec in specs) result.Add(spec.Name, Decode(path, spec, data));
        return result;
    }

    /// <summary>Printable ASCII (a text file given as a checkpoint): its first 8 bytes make an absurd header length.</summary>
    private static bool LooksLikeText(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
            if (b is not ((>= 0x20 and < 0x7F) or (byte)'\n' or (byte)'\r' or (byte)'\t')) return false;
        return true;
    }

    private sealed record Spec(string Name, string Dtype, int[] Shape, long Begin, long End)
    {
        public long Numel => (End - Begin) / Width(Dtype);
    }

    /// <summary>Bytes per element of a dtype the reader accepts, or 0.</summary>
    private static int Width(string dtype) => dtype switch
    {
        "F64" or "I64" => 8,
        "F32" or "I32" => 4,
        "F16" or "BF16" or "I16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => 0,
    };

    private static string DtypeOf(Tensor t) => t.DType switch
    {
        DType.Int64 => "I64",
        DType.Bool => "BOOL",
        _ => "F32",
    };

    private static int WidthOf(Tensor t) => t.DType switch
    {
        DType.Int64 => 8,
        DType.Bool => 1,
        _ => 4,
    };

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
                json.WriteString("dtype", DtypeOf(tensor));
                json.WriteStartArray("shape");
                foreach (int d in tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += (long)WidthOf(tensor) * tensor.Numel;
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
            try
            {
                return ParseEntries(path, document, dataLength, out metadata);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
            {
                // A name or string that cannot become .NET text (a lone UTF-16 surrogate escaped in the JSON, "\ud800"),
                // or another value System.Text.Json refuses to convert, is a bad header like any other.
                throw new InvalidDataException($"{path}: header: a name or string cannot be read ({e.Message}).", e);
            }
        }
    }

    private static List<Spec> ParseEntries(string path, JsonDocument document, long dataLength, out IReadOnlyDictionary<string, string> metadata)
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

    private static Spec ParseSpec(string path, JsonProperty property, long dataLength)
    {
        string name = property.Name;
        JsonElement e = property.Value;
        if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: {name}: expected an object.");
        if (!e.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"{path}: {name}.dtype: missing or not a string.");
        string dtype = dtypeElement.GetString()!;
        int width = Width(dtype);
        if (width == 0)
            throw new InvalidDataException($"{path}: {name}.dtype: '{dtype}' is not supported (F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL).");
        if (!e.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}: {name}.shape: missing or not an array.");
        var shape = new int[shapeElement.GetArrayLength()];
        int i = 0;
        foreach (JsonElement d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int size) || size < 0)
                throw new InvalidDataException($"{path}: {name}.shape: dimension {i} is {d.GetRawText()}, not a non-negative 32-bit integer.");
            shape[i++] = size;
        }
        long numel = Shapes.ElementCount(shape);   // exact, 0 when any dimension is 0
        if (numel > Array.MaxLength)
            throw new InvalidDataException($"{path}: {name}.shape: {Shapes.Format(shape)} has more elements than a tensor can hold.");
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

    private static Tensor Decode(string path, Spec spec, byte[] data)
    {
        ReadOnlySpan<byte> bytes = data.AsSpan((int)spec.Begin, (int)(spec.End - spec.Begin));
        switch (spec.Dtype)
        {
            case "BOOL":
            {
                Tensor t = Tensor.Zeros(DType.Bool, spec.Shape);
                Span<bool> dst = t.BoolData;
                for (int i = 0; i < dst.Length; i++) dst[i] = bytes[i] != 0;
                return t;
            }
            case "I64" or "I32" or "I16" or "I8" or "U8":
            {
                Tensor t = Tensor.Zeros(DType.Int64, spec.Shape);
                Span<long> dst = t.Int64Data;
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = spec.Dtype switch
                    {
                        "I64" => BinaryPrimitives.ReadInt64LittleEndian(bytes.Slice(i * 8, 8)),
                        "I32" => BinaryPrimitives.ReadInt32LittleEndian(bytes.Slice(i * 4, 4)),
                        "I16" => BinaryPrimitives.ReadInt16LittleEndian(bytes.Slice(i * 2, 2)),
                        "I8" => (sbyte)bytes[i],
                        _ => bytes[i],
                    };
                return t;
            }
            default:
            {
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
                        "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.Slice(i * 2, 2)),
                        "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(i * 2, 2)) << 16),
                        _ => Narrow(path, spec, i, BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(i * 8, 8))),
                    };
                }
                return t;
            }
        }
    }

    /// <summary>An F64 value as float32; a finite value beyond float32's range is refused rather than made infinite.</summary>
    private static float Narrow(string path, Spec spec, int index, double value)
    {
        float narrowed = (float)value;
        if (float.IsInfinity(narrowed) && double.IsFinite(value))
            throw new InvalidDataException(
                $"{path}: {spec.Name}: element {index} is {value:R}, beyond float32's range (MiniNet computes in float32).");
        return narrowed;
    }

    private static void WriteValues(Stream stream, Tensor tensor)
    {
        switch (tensor.DType)
        {
            case DType.Int64:
            {
                Span<byte> eight = stackalloc byte[8];
                foreach (long v in tensor.Int64Data)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(eight, v);
                    stream.Write(eight);
                }
                return;
            }
            case DType.Bool:
                foreach (bool v in tensor.BoolData) stream.WriteByte(v ? (byte)1 : (byte)0);
                return;
        }
        ReadOnlySpan<float> values = tensor.Data;
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
