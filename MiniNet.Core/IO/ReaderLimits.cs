namespace MiniNet;

/// <summary>How much memory MiniNet's readers (safetensors, IDX, CSV, ONNX) may allocate for one file, whatever the file
/// claims: a hostile or corrupt file (a decompression bomb, a header claiming billions of values) is refused before the
/// memory is taken. Raise the limits for data sets that need more.</summary>
public static class ReaderLimits
{
    private static long s_maxBytes = 4L << 30;
    private static int s_maxExpansion = 100;

    /// <summary>The most bytes a reader allocates for one file's contents: 4 GiB by default.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value below 1.</exception>
    public static long MaxBytes
    {
        get => Volatile.Read(ref s_maxBytes);
        set => Volatile.Write(ref s_maxBytes, value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "MaxBytes must be positive."));
    }

    /// <summary>The most a compressed file may expand: uncompressed bytes per byte of file, 100 by default (MNIST's gzip
    /// files expand about 5 times; deflate alone allows 1032). Any file may expand to <see cref="SmallExpansion"/>
    /// whatever its ratio (a file of identical values compresses further, and so little memory harms nobody).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value below 1.</exception>
    public static int MaxExpansion
    {
        get => Volatile.Read(ref s_maxExpansion);
        set => Volatile.Write(ref s_maxExpansion, value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "MaxExpansion must be positive."));
    }

    /// <summary>What any compressed file may expand to, whatever <see cref="MaxExpansion"/> says: 64 MiB.</summary>
    public const long SmallExpansion = 64L << 20;

    /// <summary>Throws unless a reader may allocate <paramref name="bytes"/> for <paramref name="path"/>: at most
    /// <see cref="MaxBytes"/>, and for a compressed file of <paramref name="compressedBytes"/> at most
    /// <see cref="MaxExpansion"/> times its size (or <see cref="SmallExpansion"/>).</summary>
    /// <exception cref="InvalidDataException">Over a limit; the message names the file, the claim and the setting.</exception>
    internal static void Check(string path, string what, long bytes, long? compressedBytes = null)
    {
        if (bytes > MaxBytes)
            throw new InvalidDataException(
                $"{path}: {what}: {bytes} bytes is more than a reader may allocate (ReaderLimits.MaxBytes = {MaxBytes}).");
        if (compressedBytes is { } c && bytes > Math.Max(SmallExpansion, c * (long)MaxExpansion))
            throw new InvalidDataException(
                $"{path}: {what}: {bytes} bytes is more than the file can hold: a {c}-byte compressed file may expand at most " +
                $"ReaderLimits.MaxExpansion = {MaxExpansion} times, or to {SmallExpansion >> 20} MiB (a decompression bomb, or raise the limit).");
    }
}
