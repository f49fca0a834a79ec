namespace MiniNet.Tests.Support;

/// <summary>Base for fixtures that write files: each test gets a fresh folder under the system temp folder, deleted afterwards.</summary>
public abstract class TempDirectoryTest
{
    /// <summary>This test's folder.</summary>
    protected string Dir { get; private set; } = "";

    [SetUp]
    public void CreateTempDirectory() => Directory.CreateDirectory(Dir = Path.Combine(Path.GetTempPath(), $"mininet-{GetType().Name}-{Guid.NewGuid():N}"));

    [TearDown]
    public void DeleteTempDirectory() => Directory.Delete(Dir, recursive: true);

    /// <summary>A path inside this test's folder.</summary>
    protected string PathOf(string name) => Path.Combine(Dir, name);
}
