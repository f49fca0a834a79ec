using System.Runtime.InteropServices;

namespace MiniNet.IO;

/// <summary>Makes sure a path names a regular file before a reader opens it: opening a named pipe (FIFO) for reading
/// blocks until a writer comes, which would hang a reader for good, and a directory or a device is no data file.</summary>
/// <remarks>.NET reports a FIFO or a device as an ordinary existing file, so on Linux the file's type comes from
/// <c>statx(2)</c>, whose structure has the same layout on every architecture; elsewhere a directory is still told
/// apart. A hand-written binding of one call: the libraries that wrap libc (Mono.Unix) bring a native library of
/// their own.</remarks>
internal static class RegularFile
{
    /// <summary>Throws unless <paramref name="path"/> is an existing regular file (a link to one counts).</summary>
    /// <param name="reader">Who is reading, for the message (e.g. "Safetensors", "IDX", "CSV").</param>
    /// <exception cref="FileNotFoundException">Nothing exists at the path.</exception>
    /// <exception cref="InvalidDataException">The path is a directory, a named pipe, a device or a socket.</exception>
    public static void Require(string path, string reader)
    {
        if (Directory.Exists(path))
            throw new InvalidDataException($"{path}: {reader}: this is a directory, not a file.");
        if (!File.Exists(path)) throw new FileNotFoundException($"{reader}: no file '{path}'.", path);
        if (KindOf(path) is { } kind && kind != "regular file")
            throw new InvalidDataException($"{path}: {reader}: this is a {kind}, not a regular file; MiniNet reads only regular files.");
    }

    /// <summary>The file's type in words, or null where it cannot be told (not Linux, or statx unavailable).</summary>
    private static string? KindOf(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        Span<byte> buffer = stackalloc byte[256];   // struct statx is 256 bytes
        int result;
        try
        {
            unsafe
            {
                fixed (byte* b = buffer) result = Statx(AtFdCwd, path, 0, StatxType, b);
            }
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
        if (result != 0) return null;
        ushort mode = BitConverter.ToUInt16(buffer[28..30]);   // stx_mode
        return (mode & 0xF000) switch
        {
            0x8000 => "regular file",
            0x1000 => "named pipe (FIFO)",
            0x2000 => "character device",
            0x6000 => "block device",
            0xC000 => "socket",
            0x4000 => "directory",
            _ => "special file",
        };
    }

    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern unsafe int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte* buffer);
}
