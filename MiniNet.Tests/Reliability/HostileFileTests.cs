using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Tests.Data;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Reliability;

/// <summary>Files made to hurt a reader: named pipes and directories, decompression bombs, headers claiming more than
/// the file holds, files of the wrong kind. Each must end in a clear <see cref="InvalidDataException"/> naming the
/// file, quickly, without allocating beyond what <see cref="ReaderLimits"/> allows.</summary>
[TestFixture]
public class HostileFileTests : TempDirectoryTest
{
    /// <summary>Every reader of a file path, by name, reading <c>path</c>.</summary>
    private static IEnumerable<TestCaseData> Readers()
    {
        yield return new TestCaseData("safetensors", (Action<string>)(p => Safetensors.Load(p))).SetArgDisplayNames("Safetensors.Load");
        yield return new TestCaseData("safetensors", (Action<string>)(p => new Dense(2, 2).Load(p))).SetArgDisplayNames("Module.Load");
        yield return new TestCaseData("IDX", (Action<string>)(p => IdxReader.Read(p))).SetArgDisplayNames("IdxReader.Read");
        yield return new TestCaseData("IDX", (Action<string>)(p => IdxReader.ReadScaled(p, 1f))).SetArgDisplayNames("IdxReader.ReadScaled");
        yield return new TestCaseData("IDX", (Action<string>)(p => IdxImageDataset.Read(p, p))).SetArgDisplayNames("IdxImageDataset.Read");
        yield return new TestCaseData("CSV", (Action<string>)(p => CsvDataset.Load(p, "label"))).SetArgDisplayNames("CsvDataset.Load");
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    /// <summary>Runs <paramref name="read"/> on another thread and returns what it threw; fails if it does not finish
    /// within 10 s (a reader blocked on a pipe never would).</summary>
    private static Exception? ThrownWithin10Seconds(Action read)
    {
        var task = Task.Run(read);
        if (!Task.WaitAny([task], TimeSpan.FromSeconds(10)).Equals(0))
            Assert.Fail("the reader hangs");
        return task.Exception?.InnerException;
    }

    [TestCaseSource(nameof(Readers))]
    public void NamedPipe_IsRefusedWithoutHanging(string reader, Action<string> read)
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("Named pipes are made with mkfifo(3) here.");
        string path = PathOf("pipe");
        Assert.That(MakeFifo(path, Convert.ToUInt32("600", 8)), Is.EqualTo(0), "mkfifo");
        Exception? e = ThrownWithin10Seconds(() => read(path));
        Assert.That(e, Is.TypeOf<InvalidDataException>());
        Assert.That(e!.Message, Does.Contain(path).And.Contain("named pipe (FIFO), not a regular file").And.Contain(reader));
    }

    [TestCaseSource(nameof(Readers))]
    public void Directory_IsRefusedAsADirectory(string reader, Action<string> read)
    {
        string path = PathOf("folder");
        Directory.CreateDirectory(path);
        Exception? e = ThrownWithin10Seconds(() => read(path));
        Assert.That(e, Is.TypeOf<InvalidDataException>());
        Assert.That(e!.Message, Does.Contain(path).And.Contain("this is a directory, not a file"));
    }

    [TestCaseSource(nameof(Readers))]
    public void MissingFile_IsFileNotFound(string reader, Action<string> read)
    {
        string path = PathOf("absent");
        Exception? e = ThrownWithin10Seconds(() => read(path));
        Assert.That(e, Is.TypeOf<FileNotFoundException>());
        Assert.That(e!.Message, Does.Contain(path));
    }

    /// <summary>A gzip file of concatenated members: the first holds an IDX header claiming (N, 28, 28) and 1 MiB of
    /// zeros, each other member 1 MiB of zeros, so a file of about a thousandth of N·784 bytes expands to all of them.</summary>
    private string Bomb(string name, int images)
    {
        long values = (long)images * 784;
        byte[] header = IdxReaderTests.Idx([images, 28, 28], []);
        var zeros = new byte[1 << 20];
        byte[] zerosMember = SmallestGzip(zeros);
        string path = PathOf(name);
        using var file = File.Create(path);
        long written = Math.Min(values, zeros.Length);
        file.Write(SmallestGzip([.. header, .. zeros.AsSpan(0, (int)written)]));
        for (; written + zeros.Length <= values; written += zeros.Length) file.Write(zerosMember);
        if (written < values) file.Write(SmallestGzip(new byte[values - written]));
        return path;
    }

    private static byte[] SmallestGzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.SmallestSize)) gz.Write(data);
        return output.ToArray();
    }

    /// <summary>Bytes allocated on this thread by <paramref name="action"/> (which must throw <typeparamref name="T"/>).</summary>
    private static (long Bytes, T Error) AllocationOf<T>(Action action) where T : Exception
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<T>(() => action())!;
        return (GC.GetAllocatedBytesForCurrentThread() - before, error);
    }

    /// <summary>A 1.1 MiB file expanding to 1.1 GiB: refused from its header, before the values are allocated or
    /// decompressed, by every IDX reader.</summary>
    [Test]
    public void DecompressionBomb_IsRefusedBeforeAllocating()
    {
        string bomb = Bomb("bomb-idx3-ubyte.gz", 1_500_000);   // 1.18 GB of values
        long fileLength = new FileInfo(bomb).Length;
        Assert.That(fileLength, Is.LessThan(2 << 20), "a small file");
        string labels = PathOf("labels-idx1-ubyte");
        File.WriteAllBytes(labels, IdxReaderTests.Idx([1_500_000], new byte[1_500_000]));
        foreach (var (what, read) in new (string, Action)[]
                 {
                     ("Read", () => IdxReader.Read(bomb)), ("ReadScaled", () => IdxReader.ReadScaled(bomb, 1f)),
                     ("IdxImageDataset.Read", () => IdxImageDataset.Read(bomb, labels)),
                 })
        {
            var (bytes, error) = AllocationOf<InvalidDataException>(read);
            Assert.That(error.Message, Does.Contain(bomb).And.Contain("ReaderLimits.MaxExpansion"), what);
            Assert.That(bytes, Is.LessThan(3L << 20), $"{what}: allocated {bytes} bytes for a refused file (the labels are 1.5 MB)");
        }
    }

    /// <summary>A file expanding a thousand times, to less than <see cref="ReaderLimits.SmallExpansion"/>, is read, into
    /// one array: no byte copy of the values beside the floats, no clone of the floats into the dataset's tensor.</summary>
    [Test]
    public void SmallFileExpandingMuch_ReadsIntoOneArray()
    {
        const int images = 20_000;   // 15.7 MB of values from about 16 KB of file
        string path = Bomb("zeros-idx3-ubyte.gz", images);
        string labels = PathOf("labels-idx1-ubyte");
        File.WriteAllBytes(labels, IdxReaderTests.Idx([images], new byte[images]));
        long values = images * 784L;
        long before = GC.GetAllocatedBytesForCurrentThread();
        IdxData bytes = IdxReader.Read(path);
        long afterBytes = GC.GetAllocatedBytesForCurrentThread();
        TensorDataset data = IdxImageDataset.Read(path, labels);
        long afterDataset = GC.GetAllocatedBytesForCurrentThread();
        Assert.That(bytes.Values, Has.Length.EqualTo(values));
        Assert.That(data.Features.Shape, Is.EqualTo(new[] { images, 1, 28, 28 }));
        Assert.That(afterBytes - before, Is.LessThan(values + (1 << 20)), "Read: the values once, plus buffers");
        Assert.That(afterDataset - afterBytes, Is.LessThan(4 * values + images * 9L + (1 << 20)),
            "IdxImageDataset.Read: the floats once, the labels, plus buffers");
    }

    /// <summary>Beyond <see cref="ReaderLimits.SmallExpansion"/> the ratio counts; raising it lets the file be read.</summary>
    [Test]
    public void LargeExpansion_IsRefused_UntilTheLimitIsRaised()
    {
        const int images = 100_000;   // 78.4 MB of values from about 80 KB of file
        string path = Bomb("large-idx3-ubyte.gz", images);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("ReaderLimits.MaxExpansion = 100 times, or to 64 MiB"));
        int saved = ReaderLimits.MaxExpansion;
        ReaderLimits.MaxExpansion = 1100;
        try
        {
            Assert.That(IdxReader.Read(path).Values, Has.Length.EqualTo(images * 784L));
        }
        finally
        {
            ReaderLimits.MaxExpansion = saved;
        }
    }

    /// <summary>A small gzip file whose header claims 1 GiB: refused before the array is allocated.</summary>
    [Test]
    public void GzipClaimingAGibibyte_IsRefusedBeforeAllocating()
    {
        byte[] file = IdxReaderTests.Gzip(IdxReaderTests.Idx([1 << 30], new byte[1000]));
        string path = PathOf("claims-idx1-ubyte.gz");
        File.WriteAllBytes(path, [.. file, .. new byte[1 << 20]]);   // padding after the stream: more file, no more data
        var (bytes, error) = AllocationOf<InvalidDataException>(() => IdxReader.Read(path));
        Assert.That(error.Message, Does.Contain(path).And.Contain("more than the file can hold"));
        Assert.That(bytes, Is.LessThan(1 << 20));
    }

    [Test]
    public void AbsoluteLimit_RefusesAFileClaimingMore()
    {
        string path = PathOf("big-idx1-ubyte");
        File.WriteAllBytes(path, IdxReaderTests.Idx([4096], new byte[4096]));
        long saved = ReaderLimits.MaxBytes;
        ReaderLimits.MaxBytes = 1000;
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));
            Assert.That(e!.Message, Does.Contain(path).And.Contain("ReaderLimits.MaxBytes = 1000"));
            string checkpoint = PathOf("m.safetensors");
            ReaderLimits.MaxBytes = 1L << 30;
            Safetensors.Save(new Dictionary<string, Tensor> { ["w"] = Tensor.Zeros(1000) }, checkpoint);
            ReaderLimits.MaxBytes = 1000;
            Assert.That(Assert.Throws<InvalidDataException>(() => Safetensors.Load(checkpoint))!.Message, Does.Contain("ReaderLimits.MaxBytes"));
        }
        finally
        {
            ReaderLimits.MaxBytes = saved;
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => ReaderLimits.MaxBytes = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => ReaderLimits.MaxExpansion = 0);
    }

    /// <summary>Concatenated gzip members are one stream (as gzip(1) and zcat read them): valid, and read as such.</summary>
    [Test]
    public void MultiMemberGzip_ReadsAsOneStream()
    {
        byte[] values = Enumerable.Range(0, 3 * 28 * 28).Select(i => (byte)(i * 7)).ToArray();
        byte[] raw = IdxReaderTests.Idx([3, 28, 28], values);
        string path = PathOf("members-idx3-ubyte.gz");
        File.WriteAllBytes(path, [.. IdxReaderTests.Gzip(raw[..1000]), .. IdxReaderTests.Gzip(raw[1000..2000]), .. IdxReaderTests.Gzip(raw[2000..])]);
        IdxData read = IdxReader.Read(path);
        Assert.That(read.Dimensions, Is.EqualTo(new[] { 3, 28, 28 }));
        Assert.That(read.Values, Is.EqualTo(values));
        Assert.That(IdxReader.ReadScaled(path, 0.5f).Values, Is.EqualTo(values.Select(v => v * 0.5f).ToArray()));
    }

    /// <summary>A file cut inside the last member's trailer, or with that trailer's checksum altered, is refused.</summary>
    [Test]
    public void MultiMemberGzip_DamagedLastTrailer_IsRefused()
    {
        byte[] raw = IdxReaderTests.Idx([2, 28, 28], Enumerable.Range(0, 2 * 784).Select(i => (byte)i).ToArray());
        byte[] file = [.. IdxReaderTests.Gzip(raw[..800]), .. IdxReaderTests.Gzip(raw[800..])];
        string path = PathOf("damaged-idx3-ubyte.gz");
        byte[] altered = (byte[])file.Clone();
        altered[^8] ^= 0x01;   // the CRC-32 of the last member
        File.WriteAllBytes(path, altered);
        Assert.That(Assert.Throws<InvalidDataException>(() => IdxReader.Read(path))!.Message, Does.Contain(path).And.Contain("gzip"));
        foreach (int cut in new[] { 1, 3, 7 })
        {
            File.WriteAllBytes(path, file[..^cut]);
            Assert.That(Assert.Throws<InvalidDataException>(() => IdxReader.Read(path))!.Message, Does.Contain(path).And.Contain("gzip"), $"cut by {cut}");
        }
    }

    [Test]
    public void Csv_RepeatedHeaderName_IsRefusedNamingIt()
    {
        string path = PathOf("repeated.csv");
        File.WriteAllText(path, "a,b,a,label\n1,2,3,0\n4,5,6,1\n");
        var e = Assert.Throws<InvalidDataException>(() => CsvDataset.Load(path, "label"));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("'a'"));
    }

    [TestCase("weights,epoch\n0.5,3\n")]
    [TestCase("{\"weight\": [1, 2, 3]}\n")]
    public void TextGivenAsCheckpoint_SaysItIsNotASafetensorsFile(string text)
    {
        string path = PathOf("model.safetensors");
        File.WriteAllText(path, text);
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("not a safetensors file"));
    }

    /// <summary>A safetensors file with the given JSON header and data bytes.</summary>
    private string SafetensorsFile(string header, byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        string path = PathOf("hand-made.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. data]);
        return path;
    }

    [TestCase(@"{""\ud800"":{""dtype"":""F32"",""shape"":[1],""data_offsets"":[0,4]}}")]
    [TestCase(@"{""a\udc00b"":{""dtype"":""F32"",""shape"":[1],""data_offsets"":[0,4]}}")]
    [TestCase(@"{""a"":{""dtype"":""F\ud800"",""shape"":[1],""data_offsets"":[0,4]}}")]
    [TestCase(@"{""__metadata__"":{""k"":""\ud800""},""a"":{""dtype"":""F32"",""shape"":[1],""data_offsets"":[0,4]}}")]
    public void Safetensors_LoneSurrogateInTheHeader_IsInvalidData(string header)
    {
        string path = SafetensorsFile(header, new byte[4]);
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("header"));
    }

    [Test]
    public void Safetensors_RawLoneSurrogateBytes_AreInvalidUtf8()
    {
        byte[] json = [.. "{\"a"u8, 0xED, 0xA0, 0x80, .. "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"u8];
        string path = PathOf("raw.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. new byte[4]]);
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("UTF-8"));
    }

    /// <summary>An F64 value beyond float32's range is refused naming the key, not turned into infinity.</summary>
    [Test]
    public void Safetensors_F64BeyondFloat32_IsRefusedNamingTheKey()
    {
        byte[] data = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(data, 1.5);
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8), 1e300);
        string path = SafetensorsFile(@"{""layer.weight"":{""dtype"":""F64"",""shape"":[2],""data_offsets"":[0,16]}}", data);
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("layer.weight").And.Contain("element 1").And.Contain("1E+300"));
    }

    /// <summary>An int64 value loaded into a float32 tensor warns, naming the key, when float32 cannot hold it exactly.</summary>
    [Test]
    public void Int64IntoFloat32_BeyondItsPrecision_WarnsNamingTheKey()
    {
        var logger = new CapturingLogger();
        var saved = MiniNetLogging.Logger;
        MiniNetLogging.Logger = logger;
        try
        {
            var model = new Dense(1, 2, bias: true);
            var exact = new Dictionary<string, Tensor> { ["weight"] = Tensor.Zeros(2, 1), ["bias"] = Tensor.FromInt64Array([3, 1 << 24], 2) };
            model.LoadStateDict(exact);
            Assert.That(logger.Entries, Is.Empty, "2^24 is exact in float32");
            var inexact = new Dictionary<string, Tensor> { ["weight"] = Tensor.Zeros(2, 1), ["bias"] = Tensor.FromInt64Array([3, (1 << 24) + 1], 2) };
            model.LoadStateDict(inexact);
            Assert.That(logger.Entries.Single().Message, Does.Contain("'bias'").And.Contain("16777217").And.Contain("not exact in float32"));
            Assert.That(model.Bias!.ToArray(), Is.EqualTo(new[] { 3f, 16777216f }));
        }
        finally
        {
            MiniNetLogging.Logger = saved;
        }
    }

    /// <summary>num_batches_tracked is an int64 counter: saved as I64 (as PyTorch does), exact beyond 2^24, and an older
    /// checkpoint that stored it as F32 still loads.</summary>
    [Test]
    public void NumBatchesTracked_IsInt64_AndLoadsFromOlderF32Files()
    {
        var norm = new BatchNorm1d(2);
        norm.NumBatchesTracked!.Int64Data[0] = (1L << 24) + 1;
        string path = PathOf("bn.safetensors");
        norm.Save(path);
        var loaded = Safetensors.Load(path);
        Assert.That(loaded["num_batches_tracked"].DType, Is.EqualTo(DType.Int64));
        var fresh = new BatchNorm1d(2);
        fresh.Load(path);
        Assert.That(fresh.NumBatchesTracked!.ToInt64Array(), Is.EqualTo(new[] { (1L << 24) + 1 }));
        fresh.Forward(TestData.Uniform([4, 2], 1));
        Assert.That(fresh.NumBatchesTracked!.ToInt64Array(), Is.EqualTo(new[] { (1L << 24) + 2 }), "it still counts");

        var legacy = new Dictionary<string, Tensor>(loaded) { ["num_batches_tracked"] = Tensor.Scalar(1234f) };
        Safetensors.Save(legacy, path);
        fresh.Load(path);
        Assert.That(fresh.NumBatchesTracked!.ToInt64Array(), Is.EqualTo(new[] { 1234L }));
        legacy["num_batches_tracked"] = Tensor.Scalar(12.5f);
        Safetensors.Save(legacy, path);
        var e = Assert.Throws<ArgumentException>(() => fresh.Load(path));
        Assert.That(e!.Message, Does.Contain("num_batches_tracked").And.Contain("not a whole number"));
        Assert.That(fresh.NumBatchesTracked!.ToInt64Array(), Is.EqualTo(new[] { 1234L }), "a failed load changes nothing");
    }

    /// <summary>The temporaries of earlier saves that were killed are removed by the next save of the same file; one
    /// another process still holds open is left alone, and other files' temporaries are not touched.</summary>
    [Test]
    public void Save_RemovesStaleTemporariesOfTheSameTarget()
    {
        string path = PathOf("model.safetensors");
        string[] stale = Enumerable.Range(0, 3).Select(_ => PathOf($".model.safetensors.{Guid.NewGuid():N}.tmp")).ToArray();
        foreach (string s in stale) File.WriteAllBytes(s, new byte[100]);
        string held = PathOf($".model.safetensors.{Guid.NewGuid():N}.tmp");
        string other = PathOf($".other.safetensors.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(other, new byte[10]);
        using (new FileStream(held, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
            Safetensors.Save(new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(4) }, path);
        foreach (string s in stale) Assert.That(File.Exists(s), Is.False, s);
        Assert.That(File.Exists(held), Is.True, "a temporary in use is not removed");
        Assert.That(File.Exists(other), Is.True, "another file's temporary is not this save's to remove");
        Assert.That(Safetensors.Load(path)["w"].ToArray(), Is.EqualTo(new[] { 1f, 1f, 1f, 1f }));
    }
}
