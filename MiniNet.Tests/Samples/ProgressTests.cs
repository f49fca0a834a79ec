using MnistBatchNorm;

namespace MiniNet.Tests.Samples;

[TestFixture]
public class ProgressTests
{
    [Test]
    public void PlainLines_AtMostATenthAtATime_AndTheLast()
    {
        var writer = new StringWriter();
        var plain = new EpochProgress.PlainLines(writer, 1000);
        for (int i = 1; i <= 1000; i++) plain.Step($"step {i}");
        string[] lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.InRange(1, 10), "no line per step");
        Assert.That(lines[^1], Does.StartWith("step 1000 [1000/1000 batches, 100%]"));
        Assert.That(writer.ToString().Contains('\u001b'), Is.False, "no escape codes");
    }

    [Test]
    public void UnderTheTestRunner_OutputIsRedirected_SoProgressIsPlain() =>
        Assert.That(EpochProgress.Interactive, Is.False);
}
