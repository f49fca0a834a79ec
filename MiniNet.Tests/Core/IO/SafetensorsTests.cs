using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core.IO;

[TestFixture]
public class SafetensorsTests : TempDirectoryTest
{
    private static Sequential Model(int seed) => new(new Dense(3, 4, bias: false, generator: Rng.Create(seed)), new BatchNorm1d(4), new Dense(4, 2, generator: Rng.Create(seed + 1)));

    /// <summary>Writes a file from a header object and a data section, as another writer might.</summary>
    private static void WriteRaw(string path, string headerJson, byte[] data, ulong? claimedLength = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, claimedLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        File.WriteAllBytes(path, bytes);
    }

    [Test]
    public void SaveLoad_Module_RoundTripsEveryEntry()
    {
        Sequential a = Model(1), b = Model(7);
        a.Forward(TestData.Uniform([5, 3], 2));
        string path = PathOf("model.safetensors");
        a.Save(path);
        b.Load(path);
        foreach (var (key, t) in a.StateDict())
            Assert.That(b.StateDict()[key].ToArray(), Is.EqualTo(t.ToArray()), key);
        Assert.That(Directory.GetFiles(Dir), Has.Length.EqualTo(1), "no temporary file is left behind");
    }

    [Test]
    public void Save_WritesTheStandardLayout()
    {
        string path = PathOf("m.safetensors");
        var tensors = new Dictionary<string, Tensor> { ["a"] = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3), ["b.c"] = Tensor.Scalar(7f) };
        Safetensors.Save(tensors, path, new Dictionary<string, string> { ["format"] = "pt" });
        byte[] bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.That(n % 8, Is.EqualTo(0UL), "header padded to 8 bytes");
        using JsonDocument header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n));
        JsonElement a = header.RootElement.GetProperty("a");
        Assert.That(a.GetProperty("dtype").GetString(), Is.EqualTo("F32"));
        Assert.That(a.GetProperty("shape").Ints(), Is.EqualTo(new[] { 2, 3 }));
        Assert.That(a.GetProperty("data_offsets").Ints(), Is.EqualTo(new[] { 0, 24 }));
        Assert.That(header.RootElement.GetProperty("b.c").GetProperty("shape").GetArrayLength(), Is.EqualTo(0));
        Assert.That(header.RootElement.GetProperty("__metadata__").GetProperty("format").GetString(), Is.EqualTo("pt"));
        Assert.That(BitConverter.ToSingle(bytes, 8 + (int)n + 4 * 5), Is.EqualTo(6f));
        Assert.That(bytes.Length, Is.EqualTo(8 + (int)n + 28));
        var loaded = Safetensors.Load(path, out var meta);
        Assert.That(loaded["a"].ToArray(), Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6 }));
        Assert.That(loaded["b.c"].Item(), Is.EqualTo(7f));
        Assert.That(meta["format"], Is.EqualTo("pt"));
    }

    [Test]
    public void Load_AcceptsI64AndF64FromOtherWriters()
    {
        string path = PathOf("torch.safetensors");
        var data = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(data, 42);
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8), 2.5);
        WriteRaw(path, """{"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"d":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}}""", data);
        var loaded = Safetensors.Load(path);
        Assert.That(loaded["n"].Item(), Is.EqualTo(42f));
        Assert.That(loaded["d"].Item(), Is.EqualTo(2.5f));
    }

    private static readonly object[] Corrupt =
    [
        new object[] { "not json", "{", 0, "header: not valid JSON" },
        new object[] { "array root", "[1]", 0, "expected a JSON object" },
        new object[] { "bad dtype", """{"w":{"dtype":"C64","shape":[2],"data_offsets":[0,4]}}""", 4, "w.dtype" },
        new object[] { "short range", """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", 4, "w.data_offsets" },
        new object[] { "past the end", """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, "w.data_offsets" },
        new object[] { "negative dim", """{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, "w.shape" },
        new object[] { "huge dims", """{"w":{"dtype":"F32","shape":[100000,100000],"data_offsets":[0,4]}}""", 4, "w.shape" },
        new object[] { "overlap", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 8, "b.data_offsets" },
        new object[] { "hole", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "a.data_offsets" },
        new object[] { "trailing bytes", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 12, "data section" },
        new object[] { "missing shape", """{"a":{"dtype":"F32","data_offsets":[0,4]}}""", 4, "a.shape" },
    ];

    [TestCaseSource(nameof(Corrupt))]
    public void Load_CorruptHeader_ThrowsNamingFileAndField(string what, string header, int dataBytes, string field)
    {
        string path = PathOf("bad.safetensors");
        WriteRaw(path, header, new byte[dataBytes]);
        var ex = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path), what);
        Assert.That(ex!.Message, Does.Contain(path).And.Contain(field), what);
    }

    [Test]
    public void Load_HeaderLengthBeyondFile_ThrowsBeforeAllocating()
    {
        string path = PathOf("liar.safetensors");
        WriteRaw(path, "{}", [], claimedLength: ulong.MaxValue / 2);
        var ex = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path));
        Assert.That(ex!.Message, Does.Contain("header length"));
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.That(Assert.Throws<InvalidDataException>(() => Safetensors.Load(path))!.Message, Does.Contain("fewer than the 8-byte"));
    }

    [Test]
    public void Load_TruncatedCheckpoint_ThrowsAndLeavesModelUnchanged()
    {
        string path = PathOf("model.safetensors");
        Model(1).Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        Sequential target = Model(5);
        float[] before = target.StateDict()["0.weight"].ToArray();
        Assert.Throws<InvalidDataException>(() => target.Load(path));
        Assert.That(target.StateDict()["0.weight"].ToArray(), Is.EqualTo(before));
    }

    [Test]
    public void Load_MismatchedCheckpoint_ThrowsNamingKeyAndLeavesModelUnchanged()
    {
        string path = PathOf("other.safetensors");
        new Sequential(new Dense(3, 5, bias: false), new BatchNorm1d(5), new Dense(5, 2)).Save(path);
        Sequential target = Model(3);
        float[] before = target.StateDict()["2.weight"].ToArray();
        var ex = Assert.Throws<ArgumentException>(() => target.Load(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("'0.weight'").And.Contain("(5, 3)").And.Contain("Nothing was loaded"));
        Assert.That(target.StateDict()["2.weight"].ToArray(), Is.EqualTo(before));
    }

    [Test]
    public void Save_OverExistingFile_ReplacesIt_FailedSaveKeepsIt()
    {
        string path = PathOf("ckpt.safetensors");
        Model(1).Save(path);
        byte[] original = File.ReadAllBytes(path);
        var bad = new Dictionary<string, Tensor> { ["__metadata__"] = Tensor.Ones(1) };
        Assert.Throws<ArgumentException>(() => Safetensors.Save(bad, path));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(original));
        Model(2).Save(path);
        Assert.That(File.ReadAllBytes(path), Is.Not.EqualTo(original));
        Assert.That(Directory.GetFiles(Dir), Has.Length.EqualTo(1));
    }

    [Test]
    public void Save_MissingFolder_ThrowsNamingIt() =>
        Assert.That(Assert.Throws<DirectoryNotFoundException>(() => Model(1).Save(PathOf("no/such/dir/m.safetensors")))!.Message,
            Does.Contain("does not exist"));
}
