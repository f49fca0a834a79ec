using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using MiniNet.Data;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Data;

/// <summary>Dataset download against a local HTTP server on 127.0.0.1 serving files the test writes; never the internet.</summary>
[TestFixture]
public class DownloaderTests
{
    private string _dir = "";
    private HttpListener _listener = null!;
    private Uri _base = null!;
    private readonly Dictionary<string, byte[]> _files = [];
    private readonly List<string> _requests = [];

    [SetUp]
    public void SetUp()
    {
        _files.Clear();
        _requests.Clear();
        Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), $"mininet-dl-{Guid.NewGuid():N}"));
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _base = new Uri($"http://127.0.0.1:{port}/data/");
        _listener = new HttpListener();
        _listener.Prefixes.Add(_base.ToString());
        _listener.Start();
        _ = Task.Run(Serve);
    }

    [TearDown]
    public void TearDown()
    {
        _listener.Close();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) { return; }   // the listener was closed
            string name = context.Request.Url!.Segments[^1];
            lock (_requests) _requests.Add(name);
            if (_files.TryGetValue(name, out byte[]? body))
            {
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body);
            }
            else context.Response.StatusCode = 404;
            context.Response.Close();
        }
    }

    private static string Md5(byte[] bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));

    /// <summary>A tiny MNIST-style data set: 3 training and 2 test images of 2×2, served by the local server.</summary>
    private IdxDatasetSpec ServeTinyDataset(bool corruptTestImages = false)
    {
        byte[][] files =
        [
            IdxReaderTests.Gzip(IdxReaderTests.Idx([3, 2, 2], [0, 255, 0, 255, 1, 2, 3, 4, 9, 9, 9, 9])),
            IdxReaderTests.Gzip(IdxReaderTests.Idx([3], [0, 1, 2])),
            IdxReaderTests.Gzip(IdxReaderTests.Idx([2, 2, 2], [5, 5, 5, 5, 6, 6, 6, 6])),
            IdxReaderTests.Gzip(IdxReaderTests.Idx([2], [1, 0])),
        ];
        string[] names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];
        var entries = new List<(string, string)>();
        for (int i = 0; i < 4; i++)
        {
            entries.Add((names[i], Md5(files[i])));
            byte[] served = (byte[])files[i].Clone();
            if (corruptTestImages && i == 2) served[^10] ^= 0x55;   // one flipped byte: the MD5 must catch it
            _files[names[i]] = served;
        }
        return new IdxDatasetSpec("tiny", "Tiny", entries, [_base], [], "dataset-tiny", ["a", "b", "c"]);
    }

    [Test]
    public void MissingFiles_AreDownloadedVerifiedAndLoaded()
    {
        IdxDatasetSpec spec = ServeTinyDataset();
        var logger = new CapturingLogger();
        var options = new DatasetOptions { CacheDirectory = _dir, Logger = logger };
        TensorDataset train = IdxImageDataset.Load(spec, Split.Train, options);
        Assert.That(train.Features.Shape, Is.EqualTo(new[] { 3, 1, 2, 2 }));
        Assert.That(train.Features[0, 0, 0, 1], Is.EqualTo(1f));
        Assert.That(train.Labels, Is.EqualTo(new[] { 0, 1, 2 }));
        Assert.That(File.Exists(Path.Combine(_dir, "tiny", "train-images-idx3-ubyte.gz")), Is.True);
        Assert.That(logger.Entries.Any(e => e.Message.Contains("Downloading")), Is.True, "progress is reported");

        int before = _requests.Count;
        IdxImageDataset.Load(spec, Split.Train, options);
        Assert.That(_requests, Has.Count.EqualTo(before), "a second load uses the cache");
    }

    [Test]
    public void CorruptedDownload_IsRejectedByItsChecksum_AndLeavesNothing()
    {
        IdxDatasetSpec spec = ServeTinyDataset(corruptTestImages: true);
        var ex = Assert.Throws<DatasetNotFoundException>(() => IdxImageDataset.Load(spec, Split.Test, new DatasetOptions { CacheDirectory = _dir }));
        Assert.That(ex!.Message, Does.Contain("checksum mismatch").And.Contain("t10k-images-idx3-ubyte.gz"));
        Assert.That(File.Exists(Path.Combine(_dir, "tiny", "t10k-images-idx3-ubyte.gz")), Is.False);
        Assert.That(Directory.GetFiles(Path.Combine(_dir, "tiny")).Where(f => !f.EndsWith("labels-idx1-ubyte.gz")), Is.Empty, "no partial file");
    }

    [Test]
    public void Offline_FailsWithAdviceNamingFoldersAndPackage()
    {
        IdxDatasetSpec spec = ServeTinyDataset() with { Mirrors = [new Uri("http://127.0.0.1:9/none/")] };
        var ex = Assert.Throws<DatasetNotFoundException>(() => IdxImageDataset.Load(spec, Split.Train, new DatasetOptions { CacheDirectory = _dir }));
        Assert.That(ex!.Message, Does.Contain("apt-get install -y dataset-tiny").And.Contain("MININET_DATA").And.Contain("Download failed"));
        ex = Assert.Throws<DatasetNotFoundException>(() => IdxImageDataset.Load(spec, Split.Train, new DatasetOptions { CacheDirectory = _dir, Download = false }));
        Assert.That(ex!.Message, Does.Contain("Downloading is turned off").And.Contain(Path.Combine(_dir, "tiny")));
    }

    [Test]
    public void EnvironmentVariableFolder_IsSearchedBeforeDownloading()
    {
        IdxDatasetSpec spec = ServeTinyDataset();
        string folder = Path.Combine(_dir, "env", "tiny");
        Directory.CreateDirectory(folder);
        foreach (var (name, bytes) in _files) File.WriteAllBytes(Path.Combine(folder, name), bytes);
        string? previous = Environment.GetEnvironmentVariable(IdxImageDataset.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(IdxImageDataset.EnvironmentVariable, Path.Combine(_dir, "env"));
            TensorDataset test = IdxImageDataset.Load(spec, Split.Test, new DatasetOptions { CacheDirectory = Path.Combine(_dir, "cache") });
            Assert.That(test.Count, Is.EqualTo(2));
            Assert.That(_requests, Is.Empty);
            Assert.That(IdxImageDataset.SearchFolders(spec, new DatasetOptions())[0], Is.EqualTo(Path.Combine(_dir, "env")));
        }
        finally
        {
            Environment.SetEnvironmentVariable(IdxImageDataset.EnvironmentVariable, previous);
        }
    }

    [Test]
    public void DebianFashionMnist_IsFoundInItsSystemFolder()
    {
        string system = Paths.DebianFashionMnist(FashionMnist.Spec.SystemDirectories[0]);
        TensorDataset test = FashionMnist.Load(Split.Test, new DatasetOptions { Directory = system, Download = false });
        Assert.That(test.Count, Is.EqualTo(10_000));
        int[] counts = new int[10];
        foreach (int l in test.Labels) counts[l]++;
        Assert.That(counts, Is.All.EqualTo(1000));
        Assert.That(test.Classes![9], Is.EqualTo("Ankle boot"));
    }
}
