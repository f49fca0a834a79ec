using System.Diagnostics;
using MiniNet.Tests.Support;

namespace MiniNet.Tests.Reliability;

/// <summary>A process killed (SIGKILL) while saving leaves the previous checkpoint intact and loadable, and the
/// temporary file it was writing is removed by the next save of the same checkpoint.</summary>
[TestFixture]
public class CheckpointKillTests : TempDirectoryTest
{
    /// <summary>The child program, built with the tests (in the tests' configuration, else the other one).</summary>
    private static string ChildDll()
    {
        string mine = TestContext.CurrentContext.TestDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}")
            ? "Release" : "Debug";
        string other = mine == "Release" ? "Debug" : "Release";
        string bin = Path.Combine(Paths.RepositoryRoot, "MiniNet.Tests", "ChildProcess", "bin");
        string? dll = new[] { mine, other }.Select(c => Path.Combine(bin, c, "net10.0", "CheckpointWriter.dll")).FirstOrDefault(File.Exists);
        if (dll is null) Assert.Fail($"The child program was not built under {bin}.");
        return dll!;
    }

    [Test]
    public void KilledWhileSaving_PreviousOrNewCheckpointIsWholeAndLoadable()
    {
        string path = PathOf("checkpoint.safetensors");
        Safetensors.Save(new Dictionary<string, Tensor> { ["weight"] = Tensor.Zeros(8 << 20) }, path);
        int killedMidWrite = 0;
        for (int round = 0; round < 5; round++)
        {
            using var child = Process.Start(new ProcessStartInfo("dotnet", [ChildDll(), path])
            {
                RedirectStandardOutput = true, UseShellExecute = false,
            })!;
            Assert.That(child.StandardOutput.ReadLine(), Is.EqualTo("saved 1"));   // it is saving in a loop now
            var clock = Stopwatch.StartNew();
            bool temporaryExists = false;
            while (clock.ElapsedMilliseconds < 5000 && !(temporaryExists = Directory.GetFiles(Dir, ".checkpoint.safetensors.*.tmp").Length > 0))
                Thread.Sleep(1);
            child.Kill(entireProcessTree: true);   // SIGKILL: no finally blocks run
            child.WaitForExit();
            if (temporaryExists) killedMidWrite++;

            float[] values = Safetensors.Load(path)["weight"].ToArray();
            Assert.That(values, Has.Length.EqualTo(8 << 20));
            Assert.That(values.Distinct().Count(), Is.EqualTo(1), "the checkpoint is one whole save, never a mix");
            // Each save removes the temporaries earlier, killed saves left: at most the last kill's remains.
            Assert.That(Temporaries(), Has.Length.LessThanOrEqualTo(1), $"round {round}: stray temporaries");
        }
        Assert.That(killedMidWrite, Is.GreaterThan(0), "at least one kill landed while a temporary file was being written");
        Safetensors.Save(new Dictionary<string, Tensor> { ["weight"] = Tensor.Zeros(8) }, path);
        Assert.That(Temporaries(), Is.Empty, "the next save cleans up");
    }

    private string[] Temporaries() => Directory.GetFiles(Dir, ".checkpoint.safetensors.*.tmp");
}
