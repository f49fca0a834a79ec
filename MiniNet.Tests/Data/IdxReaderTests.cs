using System.Buffers.Binary;
using System.IO.Compression;
using MiniNet.Data;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Data;

[TestFixture]
public class IdxReaderTests : TempDirectoryTest
{
    /// <summary>An IDX header (type 0x08) for the given dimensions, followed by <paramref name="payload"/>.</summary>
    internal static byte[] Idx(int[] dims, byte[] payload, byte type = 0x08)
    {
        var bytes = new byte[4 + 4 * dims.Length + payload.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        payload.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    internal static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest)) gz.Write(data);
        return output.ToArray();
    }

    private string Write(string name, byte[] bytes)
    {
        string path = PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Test]
    public void SharedMnistTestSet_HasTheKnownContents()
    {
        IdxData images = IdxReader.Read(Path.Combine(Paths.SharedMnist, "t10k-images-idx3-ubyte.gz"));
        IdxData labels = IdxReader.Read(Path.Combine(Paths.SharedMnist, "t10k-labels-idx1-ubyte.gz"));
        Assert.That(images.Dimensions, Is.EqualTo(new[] { 10_000, 28, 28 }));
        Assert.That(labels.Dimensions, Is.EqualTo(new[] { 10_000 }));
        Assert.That(images.Values.Sum(b => (long)b), Is.EqualTo(264_923_200L), "pixel checksum");
        int[] counts = new int[10];
        foreach (byte l in labels.Values) counts[l]++;
        Assert.That(counts, Is.EqualTo(new[] { 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 }));
        Assert.That(labels.Values[..10], Is.EqualTo(new byte[] { 7, 2, 1, 0, 4, 1, 4, 9, 5, 9 }));
    }

    [Test]
    public void SharedMnist_LoadsAsDatasetOfScaledImages()
    {
        TensorDataset test = Mnist.Load(Split.Test, new DatasetOptions { Directory = Paths.SharedMnist, Download = false });
        Assert.That(test.Count, Is.EqualTo(10_000));
        Assert.That(test.Features.Shape, Is.EqualTo(new[] { 10_000, 1, 28, 28 }));
        Assert.That(test.Features.ToArray(), Is.All.InRange(0f, 1f));
        Assert.That(test.Labels[0], Is.EqualTo(7));
    }

    [Test]
    public void RawAndGzip_ReadTheSameValues()
    {
        byte[] file = Idx([2, 3], [1, 2, 3, 4, 5, 6]);
        IdxData raw = IdxReader.Read(Write("a-idx2-ubyte", file));
        IdxData gz = IdxReader.Read(Write("a-idx2-ubyte.gz", Gzip(file)));
        Assert.That(raw.Dimensions, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(raw.Values, Is.EqualTo(new byte[] { 1, 2, 3, 4, 5, 6 }));
        Assert.That(gz.Values, Is.EqualTo(raw.Values));
    }

    private static readonly object[] BadFiles =
    [
        new object[] { "wrong magic", new byte[] { 1, 0, 8, 1, 0, 0, 0, 1, 9 }, "magic number" },
        new object[] { "wrong type", Idx([1], [0], type: 0x0D), "type" },
        new object[] { "no dimensions", new byte[] { 0, 0, 8, 0 }, "dimension count" },
        new object[] { "truncated header", new byte[] { 0, 0, 8, 3, 0, 0 }, "dimension 0" },
        new object[] { "truncated data", Idx([2, 3], [1, 2, 3]), "truncated" },
        new object[] { "trailing bytes", Idx([2], [1, 2, 3]), "follow" },
        new object[] { "negative dimension", Idx([-5], []), "dimension 0" },
        new object[] { "oversized header", Idx([60000, 28, 28], [1, 2, 3]), "truncated" },
        new object[] { "overflowing dimensions", Idx([65536, 65536, 65536], []), "more values than an array" },
        new object[] { "tiny file", new byte[] { 0 }, "magic number" },
    ];

    [TestCaseSource(nameof(BadFiles))]
    public void BadRawFile_ThrowsNamingFileAndField(string what, byte[] bytes, string field)
    {
        string path = Write("bad-idx", bytes);
        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path), what);
        Assert.That(ex!.Message, Does.StartWith(path).And.Contain(field), what);
    }

    [Test]
    public void GzipClaimingMoreThanItHolds_IsRefusedBeforeAllocating()
    {
        // A header for 10⁹ values, compressed to a few bytes: the trailer's size and deflate's ratio both rule it out.
        string path = Write("huge.gz", Gzip(Idx([1000, 1000, 1000], [1, 2, 3])));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));
        Assert.That(ex!.Message, Does.Contain("more than the file can hold"));
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(10_000_000));
    }

    [Test]
    public void GzipTrailerMismatch_AndCorruptStream_AreReported()
    {
        // Large and incompressible, so the header is parsed long before the decompressor reaches the trailer.
        byte[] noise = new byte[300_000];
        new Random(1).NextBytes(noise);
        byte[] badTrailer = Gzip(Idx([300_000], noise));
        badTrailer[^4] ^= 0xFF;
        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.Read(Write("t.gz", badTrailer)));
        Assert.That(ex!.Message, Does.Contain("gzip trailer"));

        byte[] gz = Gzip(Idx([4], [1, 2, 3, 4]));

        byte[] truncated = gz[..^6];
        Assert.Throws<InvalidDataException>(() => IdxReader.Read(Write("u.gz", truncated)));
        byte[] garbage = (byte[])gz.Clone();
        for (int i = 10; i < garbage.Length - 8; i++) garbage[i] = 0xFF;
        var corrupt = Assert.Throws<InvalidDataException>(() => IdxReader.Read(Write("v.gz", garbage)));
        Assert.That(corrupt!.Message, Does.Contain("v.gz"));
    }

    [Test]
    public void MissingFile_ThrowsFileNotFound() =>
        Assert.Throws<FileNotFoundException>(() => IdxReader.Read(PathOf("absent")));
}
