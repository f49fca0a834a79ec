using System.Buffers.Binary;
using System.IO.Compression;

namespace MiniNet.Data;

/// <summary>The contents of an IDX file: its dimensions and its unsigned-byte values in row-major order.</summary>
public sealed record IdxData(int[] Dimensions, byte[] Values);

/// <summary>Reads IDX files, the format of MNIST and Fashion-MNIST: raw or gzip-compressed (recognised by its magic bytes).</summary>
/// <remarks>
/// Layout: two zero bytes, a type byte (0x08 = unsigned byte, the only type these data sets use), the number of
/// dimensions, one big-endian int32 per dimension, then the values. Every field is validated, and the size the
/// header claims is checked against what the file can hold (the file length, or for gzip the uncompressed size its
/// trailer records and deflate's maximum ratio) before anything is allocated. Errors are <see cref="InvalidDataException"/>s
/// naming the file and the field.
/// </remarks>
public static class IdxReader
{
    /// <summary>Upper bound of deflate's compression ratio; a gzip file cannot expand beyond this.</summary>
    private const long MaxDeflateRatio = 1032;

    /// <summary>Reads and validates an IDX file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">A bad magic number, type, dimension count or size, or a truncated file.</exception>
    public static IdxData Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX: no file '{path}'.", path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = file.Length;
        Span<byte> first = stackalloc byte[2];
        if (file.Read(first) < 2) throw new InvalidDataException($"{path}: magic number: the file has {fileLength} bytes.");
        file.Position = 0;
        if (first[0] != 0x1F || first[1] != 0x8B) return ReadFrom(path, file, maxPayload: fileLength, exactPayload: fileLength);
        try
        {
            return ReadGzip(path, file, fileLength);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: gzip: corrupt compressed data ({e.Message}).", e);   // from GZipStream
        }
    }

    private static IdxData ReadGzip(string path, FileStream file, long compressedLength)
    {
        if (compressedLength < 18) throw new InvalidDataException($"{path}: gzip: {compressedLength} bytes is too short for a gzip file.");
        // The gzip trailer's last four bytes hold the uncompressed size modulo 2³².
        Span<byte> trailer = stackalloc byte[4];
        file.Position = compressedLength - 4;
        file.ReadExactly(trailer);
        uint recordedSize = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        file.Position = 0;
        using var gzip = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
        using var buffered = new BufferedStream(gzip, 1 << 16);
        return ReadFrom(path, buffered, maxPayload: compressedLength * MaxDeflateRatio, exactPayload: null, recordedSize);
    }

    /// <summary>Parses the header, checks the claimed size, then reads exactly the values.</summary>
    /// <param name="maxPayload">The most bytes the stream can hold.</param>
    /// <param name="exactPayload">The exact length for raw files (header + values must equal it), or null for gzip.</param>
    /// <param name="recordedSize">For gzip, the uncompressed size from the trailer (mod 2³²).</param>
    private static IdxData ReadFrom(string path, Stream stream, long maxPayload, long? exactPayload, uint? recordedSize = null)
    {
        Span<byte> magic = stackalloc byte[4];
        ReadHeader(path, stream, magic, "magic number");
        if (magic[0] != 0 || magic[1] != 0)
            throw new InvalidDataException($"{path}: magic number: expected 00 00 <type> <dims>, got {Convert.ToHexString(magic)} (not an IDX file).");
        if (magic[2] != 0x08)
            throw new InvalidDataException($"{path}: type: 0x{magic[2]:X2} is not supported; MNIST-style files store unsigned bytes (0x08).");
        int rank = magic[3];
        if (rank is < 1 or > 8)
            throw new InvalidDataException($"{path}: dimension count: {rank}, expected 1 to 8.");

        var dims = new int[rank];
        Span<byte> four = stackalloc byte[4];
        long values = 1;
        for (int d = 0; d < rank; d++)
        {
            ReadHeader(path, stream, four, $"dimension {d}");
            int size = BinaryPrimitives.ReadInt32BigEndian(four);
            if (size < 1) throw new InvalidDataException($"{path}: dimension {d}: {size}, must be positive.");
            dims[d] = size;
            values *= size;
            if (values > Array.MaxLength)
                throw new InvalidDataException($"{path}: dimensions ({string.Join(", ", dims[..(d + 1)])}…) claim more values than an array can hold.");
        }
        long headerLength = 4 + 4L * rank;
        long claimed = headerLength + values;
        if (exactPayload is { } exact && claimed != exact)
            throw new InvalidDataException(exact < claimed
                ? $"{path}: data: the dimensions ({string.Join(", ", dims)}) need {values} bytes but the file holds {exact - headerLength} (truncated)."
                : $"{path}: data: {exact - claimed} bytes follow the {values} values the dimensions ({string.Join(", ", dims)}) describe.");
        if (claimed > maxPayload)
            throw new InvalidDataException($"{path}: dimensions ({string.Join(", ", dims)}) claim {values} values, more than the file can hold.");
        if (recordedSize is { } recorded && (uint)claimed != recorded)
            throw new InvalidDataException(
                $"{path}: data: the dimensions ({string.Join(", ", dims)}) need {claimed} uncompressed bytes but the gzip trailer records {recorded}.");

        var bytes = new byte[values];
        int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        if (read < bytes.Length)
            throw new InvalidDataException($"{path}: data: the file ends after {read} of {values} values (truncated).");
        if (stream.ReadByte() != -1)
            throw new InvalidDataException($"{path}: data: bytes follow the {values} values the dimensions ({string.Join(", ", dims)}) describe.");
        return new IdxData(dims, bytes);
    }

    private static void ReadHeader(string path, Stream stream, Span<byte> destination, string field)
    {
        if (stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false) < destination.Length)
            throw new InvalidDataException($"{path}: {field}: the file ends inside the header.");
    }
}
