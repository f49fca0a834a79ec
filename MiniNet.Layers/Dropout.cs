namespace MiniNet.Layers;

/// <summary>In training, zeroes each element with probability p and scales the rest by 1/(1 − p); identity in evaluation.</summary>
public sealed class Dropout : Module
{
    private readonly System.Random? _generator;

    /// <summary>Creates the layer; masks come from <paramref name="generator"/> or <see cref="Rng.Default"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">p outside [0, 1].</exception>
    public Dropout(float p = 0.5f, System.Random? generator = null)
    {
        if (!(p >= 0f && p <= 1f)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout: p must be in [0, 1].");
        P = p;
        _generator = generator;
    }

    /// <summary>The probability of zeroing an element.</summary>
    public float P { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Dropout(P, Training, _generator);
}
