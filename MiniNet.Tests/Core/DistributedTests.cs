using System.Diagnostics;
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
}
