using System.Diagnostics;
using MiniNet.Layers;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Core;

/// <summary>The collectives and the fault handling on real Open MPI jobs: each test starts MpiChild under
/// <c>mpirun -np N</c> and reads what every rank printed. Without mpirun the tests are skipped with a message (CI,
/// which installs Open MPI, sets MININET_REQUIRE_MPI=1 so that they must run).</summary>
[TestFixture, NonParallelizable]
public class DistributedTests : TempDirectoryTest
{
    private static string? Mpirun() =>
        new[] { "/usr/bin/mpirun", "/usr/local/bin/mpirun" }.FirstOrDefault(File.Exists)
        ?? Environment.GetEnvironmentVariable("PATH")?.Split(':').Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);

    private static string ChildDll()
    {
        string configuration = TestContext.CurrentContext.TestDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        string dll = Path.Combine(Paths.RepositoryRoot, "MiniNet.Tests", "MpiChild", "bin", configuration, "net10.0", "MpiChild.dll");
        if (!File.Exists(dll)) Assert.Fail($"The MPI child program was not built: {dll}.");
        return dll;
    }

    private static ProcessStartInfo Job(int ranks, params string[] args)
    {
        string mpirun = Mpirun() ?? RequireMpi();
        var start = new ProcessStartInfo(mpirun, ["--allow-run-as-root", "--oversubscribe", "-np", $"{ranks}", "dotnet", ChildDll(), .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // In containers, Open MPI 4.1's shared-memory single copy (CMA) is often not permitted.
        start.Environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none";
        return start;
    }

    private static string RequireMpi()
    {
        if (Environment.GetEnvironmentVariable("MININET_REQUIRE_MPI") == "1") Assert.Fail("mpirun is not installed, and MININET_REQUIRE_MPI=1 requires it.");
        Assert.Ignore("mpirun not found: install openmpi-bin libopenmpi-dev to run the distributed tests.");
        return "";
    }

    /// <summary>Runs a job to its end (at most <paramref name="seconds"/>) and returns its exit code and output.</summary>
    private static (int Code, string Output) Run(int ranks, double seconds, params string[] args)
    {
        using var process = Process.Start(Job(ranks, args))!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(), errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(seconds)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the {ranks}-rank job '{string.Join(' ', args)}' did not end within {seconds} s");
        }
        process.WaitForExit();
        return (process.ExitCode, output.Result + errors.Result);
    }

    [TestCase(2), TestCase(3)]
    public void Collectives_EveryDtypeAndOp_LengthsZeroOneAndMillions(int ranks)
    {
        (int code, string output) = Run(ranks, 120, "collectives");
        Assert.That(code, Is.EqualTo(0), output);
        for (int r = 0; r < ranks; r++) Assert.That(output, Does.Contain($"collectives ok rank {r} of {ranks}"));
    }

    [Test]
    public void WithoutMpirun_AWorldOfOne()
    {
        using var process = Process.Start(new ProcessStartInfo("dotnet", [ChildDll(), "collectives"]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.That((process.ExitCode, output.Trim()), Is.EqualTo((0, "collectives ok rank 0 of 1 (no MPI)")));
    }

    [Test]
    public void MismatchedLengths_AreRefusedOnEveryRank()
    {
        (int code, string output) = Run(3, 60, "mismatch");
        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(output.Split('\n').Count(l => l.Contains("every rank must pass the same length")), Is.EqualTo(3), output);
    }

    [Test]
    public void ARankThatThrows_EndsTheJob_WithItsMessage()
    {
        var clock = Stopwatch.StartNew();
        (int code, string output) = Run(3, 60, "throw");
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(output, Does.Contain("rank 1 fails at step 5"));
        Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(30), "the job ends within seconds");
    }

    [Test]
    public void ARankKilled_EndsTheJob_AndRankZerosCheckpointIsWhole()
    {
        string checkpoint = PathOf("checkpoint.safetensors");
        using var process = Process.Start(Job(2, "save", checkpoint))!;
        int? victim = null;
        int saves = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < 60 && (victim is null || saves < 3) && process.StandardOutput.ReadLine() is { } line)
        {
            if (line.Contains("pid ")) victim = int.Parse(line[(line.IndexOf("pid ", StringComparison.Ordinal) + 4)..].Trim());
            if (line.Contains("saved ")) saves++;
        }
        Assert.That(victim, Is.Not.Null, "rank 1 reported its process id");
        Process.GetProcessById(victim!.Value).Kill();   // SIGKILL: no handler runs on that rank
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        bool ended = process.WaitForExit(TimeSpan.FromSeconds(30));
        if (!ended) process.Kill(entireProcessTree: true);
        Assert.That(ended, Is.True, "the job ends once a rank is killed");
        Assert.That(process.ExitCode, Is.Not.EqualTo(0));
        float[] weight = Safetensors.Load(checkpoint)["weight"].ToArray();
        Assert.That(weight, Has.Length.EqualTo(1 << 20));
        Assert.That(weight.Distinct().Count(), Is.EqualTo(1), "the last checkpoint is one whole save");
    }

    private static IEnumerable<TestCaseData> Exactness() =>
    [
        new TestCaseData(2, "even", "sync").SetArgDisplayNames("2 ranks × 32, SyncBatchNorm"),
        new TestCaseData(3, "uneven", "sync").SetArgDisplayNames("3 ranks of 30, 20, 14, SyncBatchNorm"),
        new TestCaseData(2, "even", "plain").SetArgDisplayNames("2 ranks × 32, BatchNorm per rank"),
        new TestCaseData(3, "uneven", "plain").SetArgDisplayNames("3 ranks of 30, 20, 14, BatchNorm per rank"),
    ];

    /// <summary>DDP with SyncBatchNorm over ranks equals one process over the global batch of 64 with BatchNorm, and
    /// DDP with plain BatchNorm equals one process normalising each rank's slice apart: the losses, weights and running
    /// statistics of 20 SGD-momentum steps, within 1e-5 relative (plus 1e-6 absolute for values near 0). Not bitwise:
    /// the ranks' sums are added in another order than one process adds them.</summary>
    [TestCaseSource(nameof(Exactness))]
    public void Ddp_EqualsItsOneProcessComputation(int ranks, string split, string norm)
    {
        var referenceLosses = new double[MiniNet.Tests.Distributed.DdpScenario.Steps];
        int[] sizes = split == "even" ? [.. Enumerable.Repeat(64 / ranks, ranks)] : [30, 20, 14];
        Module reference = norm == "sync"
            ? MiniNet.Tests.Distributed.DdpScenario.Train(0, [MiniNet.Tests.Distributed.DdpScenario.GlobalBatch], false, (step, loss) => referenceLosses[step] = loss)
            : MiniNet.Tests.Distributed.DdpScenario.TrainSlicesInOneProcess(sizes, (step, loss) => referenceLosses[step] = loss);

        string state = PathOf("ddp.safetensors");
        (int code, string output) = Run(ranks, 120, "ddp", split, norm, state);
        Assert.That(code, Is.EqualTo(0), output);
        double[] losses = [.. output.Split('\n').Where(l => l.Contains("loss ")).Select(l => l[l.IndexOf("loss ", StringComparison.Ordinal)..].Split(' '))
            .OrderBy(p => int.Parse(p[1])).Select(p => double.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture))];
        Assert.That(losses, Has.Length.EqualTo(referenceLosses.Length), output);
        for (int i = 0; i < losses.Length; i++)
            Assert.That(losses[i], Is.EqualTo(referenceLosses[i]).Within(1e-5 * Math.Abs(referenceLosses[i]) + 1e-6), $"loss of step {i}");
        TestContext.Out.WriteLine($"largest relative loss difference {losses.Zip(referenceLosses).Max(p => Math.Abs(p.First - p.Second) / Math.Abs(p.Second)):E2}");
        var trained = Safetensors.Load(state);
        foreach ((string key, Tensor expected) in reference.StateDict())
        {
            Assert.That(trained.ContainsKey(key), key);
            if (expected.DType == DType.Int64)
            {
                Assert.That(trained[key].ToInt64Array(), Is.EqualTo(expected.ToInt64Array()), key);
                continue;
            }
            TensorAssert.Close(trained[key].Data, expected.Data, atol: 1e-6f, rtol: 1e-5f, what: key);
        }
    }
}
