namespace MiniNet.Tests.Support;

/// <summary>Seeded inputs for tests.</summary>
internal static class TestData
{
    /// <summary>Uniform values in [low, high) from a generator seeded with <paramref name="seed"/>.</summary>
    public static Tensor Uniform(int[] shape, int seed, float low = -1f, float high = 1f) =>
        Tensor.Uniform(shape, low, high, Rng.Create(seed));

    /// <summary>Uniform values whose magnitude is at least <paramref name="margin"/>, away from kinks at 0 (ReLU, abs).</summary>
    public static Tensor AwayFromZero(int[] shape, int seed, float margin = 0.1f)
    {
        Tensor t = Uniform(shape, seed);
        Span<float> d = t.Data;
        for (int i = 0; i < d.Length; i++) d[i] = d[i] >= 0 ? d[i] + margin : d[i] - margin;
        return t;
    }

    /// <summary>Distinct values (a shuffled ramp) so that max and argmax have no ties.</summary>
    public static Tensor Distinct(int[] shape, int seed)
    {
        int n = Shapes.Numel(shape);
        var values = new float[n];
        for (int i = 0; i < n; i++) values[i] = (i - n / 2f + 0.5f) * 0.37f;   // never exactly 0 (a kink)
        var rng = new Random(seed);
        rng.Shuffle(values);
        return Tensor.FromArray(values, shape);
    }

    /// <summary>A plain float array of uniform values.</summary>
    public static float[] Array(int length, int seed) => Uniform([length], seed).ToArray();
}
