using Microsoft.Extensions.Logging;
using MiniNet.Layers;

namespace MiniNet.Tests.Layers;

[TestFixture]
public class DiagnosticsTests
{
    [Test]
    public void LoadResult_ToString_ListsTheKeys()
    {
        Assert.That(new LoadResult([], []).ToString(), Is.EqualTo("LoadResult: all keys matched"));
        Assert.That(new LoadResult(["3.weight"], ["extra.a", "extra.b"]).ToString(),
            Is.EqualTo("LoadResult: 1 missing key (3.weight), 2 unexpected keys (extra.a, extra.b)"));
        var model = new Sequential(new Dense(2, 2));
        var state = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        state.Remove("0.bias");
        Assert.That(model.LoadStateDict(state, strict: false).ToString(), Is.EqualTo("LoadResult: 1 missing key (0.bias), no unexpected keys"));
    }

    [Test]
    public void DefaultLogger_WritesEachWarningOnce_ToStandardError()
    {
        ILogger previous = MiniNetLogging.Logger;
        TextWriter error = Console.Error;
        var captured = new StringWriter();
        try
        {
            MiniNetLogging.Logger = new MiniNetLogging.OncePerCauseConsoleLogger();
            Console.SetError(captured);
            for (int i = 0; i < 3; i++) _ = new Sequential(new Dense(3, 3), new BatchNorm1d(3));   // the same cause three times
            _ = new Sequential(new ReLU(), new Dense(3, 3), new BatchNorm1d(3));                     // another module index: another cause
        }
        finally
        {
            Console.SetError(error);
            MiniNetLogging.Logger = previous;
        }
        string[] lines = captured.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That(lines[0], Does.StartWith("warning: Sequential: module 0 (Dense) has a bias"));
        Assert.That(lines[1], Does.StartWith("warning: Sequential: module 1 (Dense)"));
        Assert.Throws<ArgumentNullException>(() => MiniNetLogging.Logger = null!);
    }
}
