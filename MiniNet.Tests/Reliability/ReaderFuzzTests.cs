using System.Text;
using MiniNet.Data;
using MiniNet.Tests.Data;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Reliability;

/// <summary>Thousands of random, truncated, bit-flipped and hostile inputs per reader: each must load or end in an
/// <see cref="InvalidDataException"/> naming the file, never another exception, a crash or a hang.</summary>
[TestFixture]
public class ReaderFuzzTests : TempDirectoryTest
{
    private const int Cases = 1500;

    /// <summary>A mutated copy of <paramref name="valid"/>: truncated, bit-flipped, overwritten, spliced or extended.</summary>
    private static byte[] Mutate(byte[] valid, Random rng)
    {
        byte[] b = (byte[])valid.Clone();
        switch (rng.Next(6))
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
            default:
                {
                    var noise = new byte[rng.Next(0, 64)];
                    rng.NextBytes(noise);
                    return noise;                                                             // random garbage
                }
        }
    }

    private void Fuzz(string name, byte[] valid, Action<string> read, int seed)
    {
        var rng = new Random(seed);
        string path = PathOf(name);
        int rejected = 0;
        for (int i = 0; i < Cases; i++)
        {
            byte[] input = Mutate(valid, rng);
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
                Assert.Fail($"case {i} ({input.Length} bytes): {e.GetType().Name}: {e.Message}\n{Convert.ToHexString(input[..Math.Min(64, input.Length)])}");
            }
        }
        Assert.That(rejected, Is.GreaterThan(Cases / 2), "most mutations must be caught");
    }

    [Test]
    public void Idx_RawAndGzip()
    {
        byte[] raw = IdxReaderTests.Idx([3, 4, 5], Enumerable.Range(0, 60).Select(i => (byte)i).ToArray());
        Fuzz("f-idx3-ubyte", raw, p => IdxReader.Read(p), 1);
        Fuzz("f-idx3-ubyte.gz", IdxReaderTests.Gzip(raw), p => IdxReader.Read(p), 2);
    }

    [Test]
    public void Safetensors()
    {
        string valid = PathOf("valid.safetensors");
        MiniNet.Safetensors.Save(new Dictionary<string, Tensor>
        {
            ["0.weight"] = TestData.Uniform([4, 3], 1), ["1.running_var"] = TestData.Uniform([4], 2), ["n"] = Tensor.Scalar(3f),
        }, valid);
        Fuzz("f.safetensors", File.ReadAllBytes(valid), p => MiniNet.Safetensors.Load(p), 3);
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
        Fuzz("f.csv", valid, p => CsvDataset.Load(p, "label"), 4);
    }
}
