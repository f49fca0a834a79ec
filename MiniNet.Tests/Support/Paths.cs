namespace MiniNet.Tests.Support;

/// <summary>Locations the tests read from: the repository root and data that may or may not be on the machine.</summary>
/// <remarks>A test whose data is missing is skipped with a message that names what is missing and how to get it, so
/// that the test command passes on a fresh clone with nothing beside it. CI, which provides the data, sets
/// <see cref="RequireDataVariable"/>, and then a missing file fails the test instead.</remarks>
internal static class Paths
{
    /// <summary>When this environment variable is 1, tests fail rather than skip when their data is missing (.ci/run sets it).</summary>
    public const string RequireDataVariable = "MININET_REQUIRE_TEST_DATA";

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
    public static string SharedMnist => Require(
        Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data", "mnist")), "t10k-images-idx3-ubyte.gz",
        "the shared MNIST test set",
        "put the MNIST files t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz in ../shared/data/mnist beside the clone");

    /// <summary>Debian's Fashion-MNIST folder (package dataset-fashion-mnist).</summary>
    public static string DebianFashionMnist(string folder) => Require(folder, "t10k-images-idx3-ubyte.gz",
        "Debian's Fashion-MNIST", "apt-get install -y dataset-fashion-mnist (as root; sudo otherwise)");

    /// <summary><paramref name="folder"/> when it holds <paramref name="file"/>; otherwise the test is skipped (or, under CI,
    /// fails) with a message naming <paramref name="what"/> and <paramref name="howToGet"/>.</summary>
    public static string Require(string folder, string file, string what, string howToGet)
    {
        if (File.Exists(Path.Combine(folder, file))) return folder;
        string message = $"{what} is missing ({Path.Combine(folder, file)} not found); to run this test, {howToGet}.";
        if (Environment.GetEnvironmentVariable(RequireDataVariable) == "1") Assert.Fail(message + $" ({RequireDataVariable}=1: CI provides it.)");
        Assert.Ignore(message);
        return folder;
    }
}
