namespace MiniNet.Tests.Support;

/// <summary>Locations the tests read from: the repository root and the shared MNIST test set beside it.</summary>
internal static class Paths
{
    /// <summary>The folder holding MiniNet.sln, found by walking up from the test binaries.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "MiniNet.sln"))) return dir.FullName;
            throw new DirectoryNotFoundException("MiniNet.sln not found above " + TestContext.CurrentContext.TestDirectory);
        }
    }

    /// <summary>../shared/data/mnist relative to the repository root (the real MNIST test set, 10,000 digits).</summary>
    public static string SharedMnist
    {
        get
        {
            string path = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data", "mnist"));
            if (!Directory.Exists(path)) Assert.Fail($"The shared MNIST test set is expected at {path}.");
            return path;
        }
    }
}
