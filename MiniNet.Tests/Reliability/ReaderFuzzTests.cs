using System.Text;
using MiniNet.Data;
using MiniNet.Tests.Data;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Reliability;

/// <summary>Thousands of random, truncated, bit-flipped, spliced and hostile inputs per reader, lone surrogates
/// among them: each must load or end in an <see cref="InvalidDataException"/> naming the file, never another
/// exception, a crash or a hang. Non-regular files and decompression bombs: <see cref="HostileFileTests"/>.</summary>
[TestFixture]
public class ReaderFuzzTests : TempDirectoryTest
{
    /// <summary>Cases per reader and run: <c>MININET_FUZZ_CASES</c> when set (a longer local run), else 20,000.</summary>
    private static readonly int Cases = int.TryParse(Environment.GetEnvironmentVariable("MININET_FUZZ_CASES"), out int n) && n > 0 ? n : 20_000;

    /// <summary>Escapes of lone UTF-16 surrogates, which JSON allows to be written and .NET refuses to read as a string.</summary>
    private static readonly string[] SurrogateEscapes = [@"\ud800", @"\udfff", @"\udc00x", @"\ud800\u0041", @"\uDBFF"];

    /// <summary>Lone surrogates encoded as UTF-8 would encode them (invalid UTF-8).</summary>
    private static readonly byte[][] SurrogateBytes = [[0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xED, 0xB0, 0x80]];

    /// <summary>A mutated copy of <paramref name="valid"/>: truncated, bit-flipped, overwritten, spliced, extended, or
    /// given a lone surrogate (escaped inside a string, or as raw bytes).</summary>
    private static byte[] Mutate(byte[] valid, Random rng)
    {
        byte[] b = (byte[])valid.Clone();
        switch (rng.Next(8))
        {
            case 0: return b[..rng.Next(b.Length)];                                           // truncated
            case 1:
                for (int k = rng.Next(1, 9); k > 0; k--) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return b;                                                                     // bit flips
            case 2:
                for (int k = rng.Next(1, 5); k > 0; k--) b[rng.Next(b.Length)] = (byte)rng.Next(256);
                return b;                                                                     // overwritten bytes
            case 3:
                {
                    int at = rng.Next(b.Length);
                    return [.. b[..at], .. b[Math.Min(b.Length, at + rng.Next(1, 16))..]];    // bytes removed
                }
            case 4:
                {
                    var extra = new byte[rng.Next(1, 32)];
                    rng.NextBytes(extra);
                    int at = rng.Next(b.Length);
                    return [.. b[..at], .. extra, .. b[at..]];                               // bytes inserted
                }
            case 5:
                {
                    // A lone surrogate escape, mostly right after a quote (inside a name or a string value).
                    int[] quotes = Enumerable.Range(0, b.Length).Where(i => b[i] == (byte)'"').ToArray();
                    int at = quotes.Length > 0 && rng.Next(4) > 0 ? quotes[rng.Next(quotes.Length)] + 1 : rng.Next(b.Length + 1);
                    byte[] escape = Encoding.ASCII.GetBytes(SurrogateEscapes[rng.Next(SurrogateEscapes.Length)]);
                    return [.. b[..at], .. escape, .. b[at..]];
                }
            case 6:
                {
                    int at = rng.Next(b.Length + 1);
                    return [.. b[..at], .. SurrogateBytes[rng.Next(SurrogateBytes.Length)], .. b[at..]];   // raw surrogate bytes
                }
            default:
                {
                    var noise = new byte[rng.Next(0, 64)];
                    rng.NextBytes(noise);
                    return noise;                                                             // random garbage
                }
        }
    }

    /// <summary>A safetensors file mutated inside its JSON header with the length prefix kept consistent, so that the
    /// mutation reaches the header's parser (half the cases), or anywhere (the others).</summary>
    private static byte[] MutateSafetensors(byte[] valid, Random rng)
    {
        if (rng.Next(2) == 0) return Mutate(valid, rng);
        int headerLength = (int)BitConverter.ToUInt64(valid, 0);
        byte[] header = Mutate(valid[8..(8 + headerLength)], rng);
        return [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. valid[(8 + headerLength)..]];
    }

    /// <summary>A gzip IDX file whose uncompressed bytes were mutated and compressed again, so that the mutation reaches
    /// the IDX parser behind a valid gzip stream (half the cases), or a mutation of the compressed bytes (the others).</summary>
    private static byte[] MutateGzipIdx(byte[] raw, Random rng) =>
        rng.Next(2) == 0 ? Mutate(IdxReaderTests.Gzip(raw), rng) : IdxReaderTests.Gzip(Mutate(raw, rng));

    private void Fuzz(string name, Func<Random, byte[]> mutate, Action<string> read, int seed)
    {
        var rng = new Random(seed);
        string path = PathOf(name);
        int rejected = 0;
        for (int i = 0; i < Cases; i++)
        {
            byte[] input = mutate(rng);
            File.WriteAllBytes(path, input);
            try
            {
                read(path);
            }
            catch (InvalidDataException e)
            {
                Assert.That(e.Message, Does.Contain(path), $"case {i}: the message must name the file");
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"case {i} ({input.Length} bytes): {e.GetType().Name}: {e.Message}\n{Convert.ToHexString(input[..Math.Min(96, input.Length)])}");
            }
        }
        TestContext.Out.WriteLine($"{name}: {Cases} cases, {rejected} refused, {Cases - rejected} read");
        Assert.That(rejected, Is.GreaterThan(Cases / 3), "most mutations must be caught");
    }

    [Test]
    public void Idx_RawAndGzip()
    {
        byte[] raw = IdxReaderTests.Idx([3, 4, 5], Enumerable.Range(0, 60).Select(i => (byte)i).ToArray());
        Fuzz("f-idx3-ubyte", rng => Mutate(raw, rng), p => IdxReader.Read(p), 1);
        Fuzz("f-idx3-ubyte.gz", rng => MutateGzipIdx(raw, rng), p => IdxReader.Read(p), 2);
        Fuzz("s-idx3-ubyte.gz", rng => MutateGzipIdx(raw, rng), p => IdxReader.ReadScaled(p, 1f / 255f), 5);
    }

    [Test]
    public void Safetensors()
    {
        string valid = PathOf("valid.safetensors");
        MiniNet.Safetensors.Save(new Dictionary<string, Tensor>
        {
            ["0.weight"] = TestData.Uniform([4, 3], 1), ["1.running_var"] = TestData.Uniform([4], 2), ["n"] = Tensor.Scalar(3f),
            ["2.num_batches_tracked"] = Tensor.FromInt64Array([7]),
        }, valid);
        byte[] bytes = File.ReadAllBytes(valid);
        Fuzz("f.safetensors", rng => MutateSafetensors(bytes, rng), p => MiniNet.Safetensors.Load(p), 3);
    }

    [Test]
    public void Safetensors_HostileHeaders()
    {
        string[] headers =
        [
            """{"a":{"dtype":"F32","shape":[2147483647,2147483647],"data_offsets":[0,4]}}""",
            """{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}""",
            """{"a":{"dtype":"F32","shape":[1],"data_offsets":["0","4"]}}""",
            """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""",
            """{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}""",
            """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,9223372036854775807]}}""",
            """{"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}}""",
            """{"__metadata__":[1,2],"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""",
            """{"a":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}""",
        ];
        foreach (string header in headers)
        {
            byte[] json = Encoding.UTF8.GetBytes(header);
            byte[] file = [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. new byte[8]];
            string path = PathOf("hostile.safetensors");
            File.WriteAllBytes(path, file);
            var ex = Assert.Throws<InvalidDataException>(() => MiniNet.Safetensors.Load(path), header);
            Assert.That(ex!.Message, Does.Contain(path), header);
        }
    }

    [Test]
    public void Csv()
    {
        byte[] valid = Encoding.UTF8.GetBytes("a,b,label\n1.5,2,0\n3,-4e-1,1\n\"5\",6,2\n7,8,1\n");
        Fuzz("f.csv", rng => Mutate(valid, rng), p => CsvDataset.Load(p, "label"), 4);
    }
}
