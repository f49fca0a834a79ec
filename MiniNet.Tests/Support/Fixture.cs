using System.Text.Json;

namespace MiniNet.Tests.Support;

/// <summary>Reads reference values stored under Fixtures/ (written by the scripts beside them).</summary>
internal static class Fixture
{
    public static JsonElement Load(string fileName)
    {
        string path = Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", fileName);
        using var stream = File.OpenRead(path);
        return JsonDocument.Parse(stream).RootElement.Clone();
    }

    public static float[] Floats(this JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    public static int[] Ints(this JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();
}
