using System.Buffers.Binary;
using System.IO.Compression;
using MiniNet.IO;

namespace MiniNet.Data;

/// <summary>The contents of an IDX file: its dimensions and its unsigned-byte values in row-major order.</summary>
public sealed record IdxData(int[] Dimensions, byte[] Values);

/// <summary>Reads IDX files, the format of MNIST and Fashion-MNIST: raw or gzip-compressed (recognised by its magic
/// bytes; several concatenated gzip members are one stream).</summary>
/// <remarks>
/// Layout: two zero bytes, a type byte (0x08 = unsigned byte, the only type these data sets use), the number of
/// dimensions, one big-endian int32 per dimension, then the values. Every field is validated, and the size the header
/// claims is checked before anything is allocated: against the file's length for a raw file, against
/// <see cref="ReaderLimits.MaxExpansion"/> times the file's length for a gzip one, and against
/// <see cref="ReaderLimits.MaxBytes"/>. The values are decompressed straight into the one array returned. Errors are
/// <see cref="InvalidDataException"/>s naming the file and the field.
/// </remarks>
public static class IdxReader
{
    /// <summary>Reads and validates an IDX file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a regular file; a bad magic number, type, dimension count or size; a
    /// truncated or corrupt file; or more than <see cref="ReaderLimits"/> allow.</exception>
    public static IdxData Read(string path)
    {
        (int[] dims, byte[]? bytes, _) = ReadValues(path, scale: null);
        return new IdxData(dims, bytes!);
    }

    /// <summary>Reads an IDX file's values as floats, each byte times <paramref name="scale"/>, decompressed and converted
    /// a block at a time straight into the array returned (no array of bytes as large as the data).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">As <see cref="Read"/>.</exception>
    public static (int[] Dimensions, float[] Values) ReadScaled(string path, float scale)
    {
        (int[] dims, _, float[]? floats) = ReadValues(path, scale);
        return (dims, floats!);
    }

    private static (int[] Dims, byte[]? Bytes, float[]? Floats) ReadValues(string path, float? scale)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RegularFile.Require(path, "IDX");
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = file.Length;
        Span<byte> first = stackalloc byte[2];
        if (file.Read(first) < 2) throw new InvalidDataException($"{path}: magic number: the file has {fileLength} bytes.");
        file.Position = 0;
        if (first[0] != 0x1F || first[1] != 0x8B) return ReadFrom(path, file, fileLength, compressed: false, scale);
        if (fileLength < 18) throw new InvalidDataException($"{path}: gzip: {fileLength} bytes is too short for a gzip file.");
        // The last member's trailer: the CRC-32 and size (mod 2³²) of the uncompressed bytes it holds, the stream's last
        // ones. The decompressor checks each member it finishes; a file cut inside the last trailer it would not notice.
        Span<byte> trailer = stackalloc byte[8];
        file.Position = fileLength - 8;
        file.ReadExactly(trailer);
        file.Position = 0;
        uint trailerCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer), trailerSize = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        try
        {
            using var gzip = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
            using var buffered = new BufferedStream(gzip, 1 << 16);
            using var checkedTail = new TailCrcStream(buffered);
            var result = ReadFrom(path, checkedTail, fileLength, compressed: true, scale, checkedTail, trailerSize);
            if (checkedTail.Crc != trailerCrc)
                throw new InvalidDataException(
                    $"{path}: gzip trailer: its CRC-32 {trailerCrc:X8} does not match the last {trailerSize} bytes ({checkedTail.Crc:X8}); the file is corrupt or cut short.");
            return result;
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            // From GZipStream: the deflate data, or a member's trailer (its CRC-32 and size), does not check out.
            throw new InvalidDataException($"{path}: gzip: corrupt compressed data, or a gzip trailer that does not match it ({e.Message}).", e);
        }
    }

    /// <summary>Parses the header, checks the claimed size, then reads exactly the values (and nothing after them).</summary>
    /// <param name="tail">For gzip: where the CRC-32 of the stream's last <paramref name="trailerSize"/> bytes is taken.</param>
    private static (int[] Dims, byte[]? Bytes, float[]? Floats) ReadFrom(string path, Stream stream, long fileLength, bool compressed, float? scale,
        TailCrcStream? tail = null, uint trailerSize = 0)
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
        string shape = string.Join(", ", dims);
        if (!compressed && claimed != fileLength)
            throw new InvalidDataException(fileLength < claimed
                ? $"{path}: data: the dimensions ({shape}) need {values} bytes but the file holds {fileLength - headerLength} (truncated)."
                : $"{path}: data: {fileLength - claimed} bytes follow the {values} values the dimensions ({shape}) describe.");
        if (compressed) ReaderLimits.Check(path, $"dimensions ({shape})", claimed, fileLength);
        if (tail is not null)
        {
            if (trailerSize > claimed)
                throw new InvalidDataException(
                    $"{path}: gzip trailer: it records {trailerSize} bytes, but the dimensions ({shape}) describe {claimed}; the file is corrupt or cut short.");
            tail.Start = claimed - trailerSize;   // the last member's first byte in the uncompressed stream
        }
        ReaderLimits.Check(path, $"dimensions ({shape})", scale is null ? values : 4 * values);

        byte[]? bytes = null;
        float[]? floats = null;
        long read;
        if (scale is { } s)
        {
            floats = GC.AllocateUninitializedArray<float>((int)values);
            read = ReadScaledInto(stream, floats, s);
        }
        else
        {
            // Uninitialised: the pages of a large array are only committed as the values are written into them.
            bytes = GC.AllocateUninitializedArray<byte>((int)values);
            read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        }
        if (read < values)
            throw new InvalidDataException($"{path}: data: the file ends after {read} of {values} values (truncated).");
        if (stream.ReadByte() != -1)
            throw new InvalidDataException($"{path}: data: bytes follow the {values} values the dimensions ({shape}) describe.");
        return (dims, bytes, floats);
    }

    /// <summary>Fills <paramref name="destination"/> with the stream's next bytes times <paramref name="scale"/>, a block at
    /// a time; returns how many were read.</summary>
    private static long ReadScaledInto(Stream stream, float[] destination, float scale)
    {
        byte[] block = new byte[1 << 16];
        long done = 0;
        while (done < destination.Length)
        {
            int n = stream.Read(block, 0, (int)Math.Min(block.Length, destination.Length - done));
            if (n == 0) break;
            Span<float> target = destination.AsSpan((int)done, n);
            for (int i = 0; i < n; i++) target[i] = block[i] * scale;
            done += n;
        }
        return done;
    }

    private static void ReadHeader(string path, Stream stream, Span<byte> destination, string field)
    {
        if (stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false) < destination.Length)
            throw new InvalidDataException($"{path}: {field}: the file ends inside the header.");
    }

    /// <summary>Passes a stream's bytes through and takes the CRC-32 of those from <see cref="Start"/> on (set once the
    /// header has told where the last gzip member begins; the header's own bytes are kept until then).</summary>
    private sealed class TailCrcStream(Stream inner) : Stream
    {
        private readonly System.IO.Hashing.Crc32 _crc = new();
        private readonly List<byte> _head = [];   // the bytes read before Start was known (the header, at most 36)
        private long _position, _start = -1;

        public long Start
        {
            set
            {
                _start = value;
                for (int i = (int)Math.Min(value, _head.Count); i < _head.Count; i++) _crc.Append([_head[i]]);
                _head.Clear();
            }
        }

        public uint Crc => _crc.GetCurrentHashAsUInt32();

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            ReadOnlySpan<byte> got = buffer[..n];
            if (_start < 0) _head.AddRange(got);
            else if (_position + n > _start) _crc.Append(got[(int)Math.Max(0, _start - _position)..]);
            _position += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
