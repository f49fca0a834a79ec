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
    /// files expand about 5 times; deflate alone allows 1032).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value below 1.</exception>
    public static int MaxExpansion
    {
        get => Volatile.Read(ref s_maxExpansion);
        set => Volatile.Write(ref s_maxExpansion, value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "MaxExpansion must be positive."));
    }

    /// <summary>Throws unless a reader may allocate <paramref name="bytes"/> for <paramref name="path"/>: at most
    /// <see cref="MaxBytes"/>, and for a compressed file of <paramref name="compressedBytes"/> at most
    /// <see cref="MaxExpansion"/> times its size.</summary>
    /// <exception cref="InvalidDataException">Over a limit; the message names the file, the claim and the setting.</exception>
    internal static void Check(string path, string what, long bytes, long? compressedBytes = null)
    {
        if (bytes > MaxBytes)
            throw new InvalidDataException(
                $"{path}: {what}: {bytes} bytes is more than a reader may allocate (ReaderLimits.MaxBytes = {MaxBytes}).");
        if (compressedBytes is { } c && bytes > c * (long)MaxExpansion)
            throw new InvalidDataException(
                $"{path}: {what}: {bytes} bytes from a {c}-byte compressed file is an expansion beyond ReaderLimits.MaxExpansion = {MaxExpansion} (a decompression bomb, or raise the limit).");
    }
}
