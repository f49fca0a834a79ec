using System.Numerics.Tensors;

namespace MiniNet;

/// <summary>Where an op's backward function writes one input's gradient, from <see cref="Autograd.GradTarget"/>.</summary>
/// <remarks>
/// <para>When <see cref="Accumulate"/> is true the buffer already holds a sum (from another op that used the same input,
/// or from earlier backward passes into a leaf): add to it. When it is false the buffer's contents are unspecified and
/// the op must write every element, which saves clearing it first. Kernels that take an accumulate flag receive
/// <see cref="Accumulate"/> as it is; code that only adds calls <see cref="ForAdding"/>, which clears a fresh buffer.</para>
/// <para>A target is for one write: for a second contribution to the same input, call
/// <see cref="Autograd.GradTarget"/> again (it then says <see cref="Accumulate"/>), since a target remembers what was
/// true when it was obtained. Obtain it on the thread that runs the backward function, then hand its array to parallel
/// code.</para>
/// </remarks>
public readonly ref struct GradientTarget
{
    internal GradientTarget(Tensor gradient, bool accumulate) => (Tensor, Accumulate) = (gradient, accumulate);

    /// <summary>The gradient buffer, shaped as the input.</summary>
    public Tensor Tensor { get; }

    /// <summary>The gradient's elements.</summary>
    public Span<float> Data => Tensor.Values;

    /// <summary>True: add into <see cref="Data"/>. False: <see cref="Data"/> is uninitialised; write every element.</summary>
    public bool Accumulate { get; }

    /// <summary><see cref="Data"/>, cleared first when nothing has been added yet, for backward code that adds (+=).</summary>
    public Span<float> ForAdding()
    {
        if (!Accumulate) Data.Clear();
        return Data;
    }

    /// <summary>Data += <paramref name="values"/>, a fresh buffer counting as zeros (written in one pass, with the
    /// same values as clearing it and adding: 0 + v).</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public void Add(ReadOnlySpan<float> values)
    {
        Span<float> data = Data;
        if (values.Length != data.Length)
            throw new ArgumentException($"GradientTarget.Add: {values.Length} values for a gradient of shape {Shapes.Format(Tensor.Shape)}.", nameof(values));
        if (Accumulate) TensorPrimitives.Add(data, values, data);
        else TensorPrimitives.Add(values, 0f, data);   // v + 0, not a copy: −0 becomes +0, as 0 + (−0) does
    }
}
