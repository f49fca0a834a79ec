using MathNet.Numerics.Random;

namespace MiniNet;

/// <summary>Seeded random generators (MathNet.Numerics' xoshiro256**), so runs are reproducible.</summary>
/// <remarks>
/// Everything random in MiniNet that is not given a generator draws from <see cref="Default"/>: factories such as
/// <see cref="Tensor.Randn(int[])"/>, layer initialisation and dropout masks. <see cref="ManualSeed"/> resets it,
/// like <c>torch.manual_seed</c>. The default seed is 0, so a program that never seeds is still deterministic.
/// </remarks>
public static class Rng
{
    /// <summary>The process-wide generator. Not thread-safe: draw from one thread.</summary>
    public static System.Random Default { get; private set; } = Create(0);

    /// <summary>Re-seeds <see cref="Default"/>.</summary>
    public static void ManualSeed(int seed) => Default = Create(seed);

    /// <summary>A new generator seeded with <paramref name="seed"/>.</summary>
    public static System.Random Create(int seed) => new Xoshiro256StarStar(seed, threadSafe: false);
}
