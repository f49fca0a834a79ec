namespace MiniNet.Data;

/// <summary>A per-sample transformation of features on their way into a batch: augmentation (random crops, flips) or
/// preprocessing (normalisation). Implementations live in <see cref="Transforms"/>; a custom one implements this.</summary>
/// <remarks>A transform must be a pure function of its input and its <see cref="SampleRandom"/> (which the loader seeds
/// from its seed, the epoch and the sample's index): then a run is reproducible whatever the batch size, the prefetch
/// thread or the order. The loader may call <see cref="Apply"/> from a background thread, one sample at a time.</remarks>
public interface ITransform
{
    /// <summary>The shape of a transformed sample whose input has <paramref name="inputShape"/>.</summary>
    /// <exception cref="ArgumentException">The transform cannot take samples of this shape (the message names it).</exception>
    int[] OutputShape(IReadOnlyList<int> inputShape);

    /// <summary>Writes the transform of <paramref name="input"/> (of <paramref name="inputShape"/>, row-major) into
    /// <paramref name="output"/> (of <see cref="OutputShape"/>); the two never overlap.</summary>
    void Apply(ReadOnlySpan<float> input, IReadOnlyList<int> inputShape, Span<float> output, ref SampleRandom random);
}

/// <summary>A small, fast generator for per-sample randomness (SplitMix64): a value type, so a sample's draws cost no
/// allocation, and seeded from (seed, epoch, index) so each sample's draws are its own.</summary>
public struct SampleRandom
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private ulong _state;

    /// <summary>A generator starting from <paramref name="seed"/>.</summary>
    public SampleRandom(ulong seed) => _state = seed;

    /// <summary>The generator of sample <paramref name="index"/> in epoch <paramref name="epoch"/> of a run seeded by <paramref name="seed"/>.</summary>
    public static SampleRandom For(int seed, int epoch, int index) =>
        new(Mix(Mix(((ulong)(uint)seed << 32) | (uint)epoch) ^ (uint)index));

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong value = Mix(_state);
        _state += Golden;
        return value;
    }

    /// <summary>A uniform value in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform integer in [0, <paramref name="maxExclusive"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> is below 1.</exception>
    public int Next(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        // The high 32 bits scaled to the range (Lemire's multiply-shift): a bias below 2^-32 per value.
        return (int)(((NextUInt64() >> 32) * (ulong)maxExclusive) >> 32);
    }

    /// <summary>SplitMix64's step and finaliser: a well-mixed 64-bit value from <paramref name="z"/>, so nearby inputs
    /// give unrelated outputs.</summary>
    internal static ulong Mix(ulong z)
    {
        z += Golden;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
