namespace MiniNet.Data.Transforms;

/// <summary>Transforms applied one after another (torchvision's <c>Compose</c>).</summary>
public sealed class Compose : ITransform
{
    private readonly ITransform[] _steps;

    /// <summary>Applies <paramref name="steps"/> in order.</summary>
    /// <exception cref="ArgumentException">No steps, or a null one.</exception>
    public Compose(params ITransform[] steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Length == 0) throw new ArgumentException("Compose: give at least one transform.", nameof(steps));
        for (int i = 0; i < steps.Length; i++)
            if (steps[i] is null) throw new ArgumentException($"Compose: transform {i} is null.", nameof(steps));
        _steps = [.. steps];
    }

    /// <summary>The steps, in order.</summary>
    public IReadOnlyList<ITransform> Steps => _steps;

    /// <inheritdoc/>
    public int[] OutputShape(IReadOnlyList<int> inputShape)
    {
        int[] shape = [.. inputShape];
        foreach (ITransform step in _steps) shape = step.OutputShape(shape);
        return shape;
    }

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<float> input, IReadOnlyList<int> inputShape, Span<float> output, ref SampleRandom random)
    {
        if (_steps.Length == 1)
        {
            _steps[0].Apply(input, inputShape, output, ref random);
            return;
        }
        // Intermediate results alternate between two pooled buffers, each as large as the largest intermediate. The
        // chain's shapes are worked out once per input shape and kept (immutable, so loaders on several threads may
        // share the chain): a sample then costs no allocation.
        Plan plan = _plan is { } known && FeatureTransform.Same(known.Shapes[0], inputShape) ? known : (_plan = PlanFor(inputShape));
        int[][] shapes = plan.Shapes;
        int largest = plan.Largest;
        float[] a = System.Buffers.ArrayPool<float>.Shared.Rent(largest), b = System.Buffers.ArrayPool<float>.Shared.Rent(largest);
        try
        {
            ReadOnlySpan<float> from = input;
            for (int i = 0; i < _steps.Length; i++)
            {
                Span<float> to = i == _steps.Length - 1 ? output : (i % 2 == 0 ? a : b).AsSpan(0, Shapes.Numel(shapes[i + 1]));
                _steps[i].Apply(from, shapes[i], to, ref random);
                from = to;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(a);
            System.Buffers.ArrayPool<float>.Shared.Return(b);
        }
    }

    /// <summary>The shapes along the chain for one input shape, and the largest intermediate's size.</summary>
    private sealed record Plan(int[][] Shapes, int Largest);

    private Plan? _plan;

    private Plan PlanFor(IReadOnlyList<int> inputShape)
    {
        int[][] shapes = new int[_steps.Length + 1][];
        shapes[0] = [.. inputShape];
        int largest = 0;
        for (int i = 0; i < _steps.Length; i++)
        {
            shapes[i + 1] = _steps[i].OutputShape(shapes[i]);
            if (i + 1 < _steps.Length) largest = Math.Max(largest, Shapes.Numel(shapes[i + 1]));
        }
        return new Plan(shapes, largest);
    }
}

/// <summary>How <see cref="RandomCrop"/> fills the border it pads with (torchvision's <c>padding_mode</c>).</summary>
public enum PaddingMode
{
    /// <summary>A constant value (<c>fill</c>).</summary>
    Constant,

    /// <summary>The nearest edge value repeated.</summary>
    Edge,

    /// <summary>The image mirrored without repeating the edge (d c b | a b c d | c b a).</summary>
    Reflect,
}

/// <summary>Image samples' layout: the last two axes are height and width, any leading ones (channels) are planes.</summary>
internal static class ImageShape
{
    public static (int Planes, int Height, int Width) Of(IReadOnlyList<int> shape, string transform)
    {
        if (shape.Count < 2)
            throw new ArgumentException(
                $"{transform}: samples of shape {Shapes.Format(shape)} are not images; give the dataset (C, H, W) or (H, W) samples.");
        int planes = 1;
        for (int i = 0; i < shape.Count - 2; i++) planes *= shape[i];
        return (planes, shape[^2], shape[^1]);
    }
}

/// <summary>A random crop of images, after optional padding (torchvision's <c>RandomCrop</c>): a (…, H, W) sample
/// padded by the given borders and cut to (…, height, width) at a uniformly random position, the same for every
/// channel.</summary>
public sealed class RandomCrop : ITransform
{
    /// <summary>Crops to <paramref name="size"/>×<paramref name="size"/> after padding every side by <paramref name="padding"/>.</summary>
    public RandomCrop(int size, int padding = 0, PaddingMode mode = PaddingMode.Constant, float fill = 0)
        : this(size, size, padding, padding, padding, padding, mode, fill) { }

    /// <summary>Crops to <paramref name="height"/>×<paramref name="width"/> after padding the sides by the given amounts.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1 or a negative padding.</exception>
    public RandomCrop(int height, int width, int left, int top, int right, int bottom, PaddingMode mode = PaddingMode.Constant, float fill = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        foreach ((int pad, string name) in (ReadOnlySpan<(int, string)>)[(left, nameof(left)), (top, nameof(top)), (right, nameof(right)), (bottom, nameof(bottom))])
            if (pad < 0) throw new ArgumentOutOfRangeException(name, pad, $"RandomCrop: padding {name} = {pad} is negative.");
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "RandomCrop: unknown padding mode.");
        (Height, Width, Left, Top, Right, Bottom, Mode, Fill) = (height, width, left, top, right, bottom, mode, fill);
    }

    /// <summary>The crop's height.</summary>
    public int Height { get; }

    /// <summary>The crop's width.</summary>
    public int Width { get; }

    /// <summary>Padding on the left.</summary>
    public int Left { get; }

    /// <summary>Padding on the top.</summary>
    public int Top { get; }

    /// <summary>Padding on the right.</summary>
    public int Right { get; }

    /// <summary>Padding on the bottom.</summary>
    public int Bottom { get; }

    /// <summary>How the padding is filled.</summary>
    public PaddingMode Mode { get; }

    /// <summary>The value of constant padding.</summary>
    public float Fill { get; }

    /// <inheritdoc/>
    public int[] OutputShape(IReadOnlyList<int> inputShape)
    {
        (_, int h, int w) = ImageShape.Of(inputShape, "RandomCrop");
        if (h + Top + Bottom < Height || w + Left + Right < Width)
            throw new ArgumentException(
                $"RandomCrop: a {Height}×{Width} crop does not fit samples of shape {Shapes.Format(inputShape)} padded to {h + Top + Bottom}×{w + Left + Right}.");
        if (Mode == PaddingMode.Reflect && (Math.Max(Top, Bottom) >= h || Math.Max(Left, Right) >= w))
            throw new ArgumentException(
                $"RandomCrop: reflect padding ({Left}, {Top}, {Right}, {Bottom}) must be smaller than the image {h}×{w} of samples {Shapes.Format(inputShape)}.");
        int[] shape = [.. inputShape];
        (shape[^2], shape[^1]) = (Height, Width);
        return shape;
    }

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<float> input, IReadOnlyList<int> inputShape, Span<float> output, ref SampleRandom random)
    {
        (int planes, int h, int w) = ImageShape.Of(inputShape, "RandomCrop");
        // The crop's corner in the padded image, then in the image's own coordinates (negative inside the padding).
        int top = random.Next(h + Top + Bottom - Height + 1) - Top;
        int left = random.Next(w + Left + Right - Width + 1) - Left;
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<float> image = input.Slice(p * h * w, h * w);
            Span<float> crop = output.Slice(p * Height * Width, Height * Width);
            for (int i = 0; i < Height; i++)
            {
                int row = Source(top + i, h);
                Span<float> line = crop.Slice(i * Width, Width);
                if (row < 0)
                {
                    line.Fill(Fill);
                    continue;
                }
                ReadOnlySpan<float> sourceLine = image.Slice(row * w, w);
                // The part of the line inside the image is one copy; only the padded ends go pixel by pixel.
                int first = Math.Clamp(-left, 0, Width), last = Math.Clamp(w - left, first, Width);
                if (last > first) sourceLine.Slice(left + first, last - first).CopyTo(line[first..last]);   // none when the line lies in the padding
                for (int j = 0; j < first; j++) line[j] = Pixel(sourceLine, left + j, w);
                for (int j = last; j < Width; j++) line[j] = Pixel(sourceLine, left + j, w);
            }
        }
    }

    private float Pixel(ReadOnlySpan<float> line, int x, int w) => Source(x, w) is int at and >= 0 ? line[at] : Fill;

    /// <summary>The image coordinate a padded coordinate reads, or −1 for constant padding.</summary>
    private int Source(int x, int size)
    {
        if ((uint)x < (uint)size) return x;
        return Mode switch
        {
            PaddingMode.Constant => -1,
            PaddingMode.Edge => Math.Clamp(x, 0, size - 1),
            _ => x < 0 ? -x : 2 * (size - 1) - x,
        };
    }
}

/// <summary>The random flips: images mirrored along one axis with probability <see cref="P"/> (torchvision flips when
/// a uniform draw is below p).</summary>
public abstract class RandomFlip : ITransform
{
    /// <summary>Validates <paramref name="p"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> outside [0, 1].</exception>
    protected RandomFlip(double p)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, $"{GetType().Name}: p must be in [0, 1].");
        P = p;
    }

    /// <summary>The probability of a flip.</summary>
    public double P { get; }

    /// <inheritdoc/>
    public int[] OutputShape(IReadOnlyList<int> inputShape)
    {
        ImageShape.Of(inputShape, GetType().Name);
        return [.. inputShape];
    }

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<float> input, IReadOnlyList<int> inputShape, Span<float> output, ref SampleRandom random)
    {
        if (random.NextDouble() >= P) input.CopyTo(output);
        else Flip(input, ImageShape.Of(inputShape, GetType().Name), output);
    }

    /// <summary>Writes the mirror image of <paramref name="input"/> (planes of height × width) into <paramref name="output"/>.</summary>
    protected abstract void Flip(ReadOnlySpan<float> input, (int Planes, int Height, int Width) shape, Span<float> output);
}

/// <summary>Mirrors images left to right with probability <c>p</c> (torchvision's <c>RandomHorizontalFlip</c>).</summary>
/// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> outside [0, 1].</exception>
public sealed class RandomHorizontalFlip(double p = 0.5) : RandomFlip(p)
{
    /// <inheritdoc/>
    protected override void Flip(ReadOnlySpan<float> input, (int Planes, int Height, int Width) shape, Span<float> output)
    {
        input.CopyTo(output);
        for (int start = 0; start < output.Length; start += shape.Width) output.Slice(start, shape.Width).Reverse();
    }
}

/// <summary>Mirrors images top to bottom with probability <c>p</c> (torchvision's <c>RandomVerticalFlip</c>).</summary>
/// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> outside [0, 1].</exception>
public sealed class RandomVerticalFlip(double p = 0.5) : RandomFlip(p)
{
    /// <inheritdoc/>
    protected override void Flip(ReadOnlySpan<float> input, (int Planes, int Height, int Width) shape, Span<float> output)
    {
        (int planes, int h, int w) = shape;
        for (int plane = 0; plane < planes; plane++)
            for (int i = 0; i < h; i++)
                input.Slice((plane * h + i) * w, w).CopyTo(output.Slice((plane * h + h - 1 - i) * w, w));
    }
}

/// <summary>(x − mean) / std along the sample's first axis (torchvision's <c>Normalize</c>): per channel for
/// (C, H, W) images, per feature for (F) tabular samples; one mean and std apply to every value.</summary>
public sealed class Normalize : ITransform
{
    private readonly float[] _mean, _std;

    /// <summary>Normalises with one (mean, std) per slice along the first axis, or one pair for everything.</summary>
    /// <exception cref="ArgumentException">Empty or different-length lists, a non-finite mean, or a std that is not positive and finite.</exception>
    public Normalize(IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Count == 0 || mean.Count != std.Count)
            throw new ArgumentException($"Normalize: {mean.Count} means and {std.Count} standard deviations; give the same number, at least one.");
        for (int i = 0; i < mean.Count; i++)
        {
            if (!float.IsFinite(mean[i])) throw new ArgumentException($"Normalize: mean {i} is {mean[i]}.", nameof(mean));
            if (!(std[i] > 0) || !float.IsFinite(std[i])) throw new ArgumentException($"Normalize: std {i} is {std[i]}; it must be positive and finite.", nameof(std));
        }
        (_mean, _std) = ([.. mean], [.. std]);
    }

    /// <summary>The means.</summary>
    public IReadOnlyList<float> Mean => _mean;

    /// <summary>The standard deviations.</summary>
    public IReadOnlyList<float> Std => _std;

    /// <inheritdoc/>
    public int[] OutputShape(IReadOnlyList<int> inputShape)
    {
        if (_mean.Length > 1 && (inputShape.Count == 0 || inputShape[0] != _mean.Length))
            throw new ArgumentException(
                $"Normalize: {_mean.Length} means and standard deviations, but samples of shape {Shapes.Format(inputShape)} have " +
                $"{(inputShape.Count == 0 ? "no axis" : $"{inputShape[0]} slices along their first axis")}.");
        return [.. inputShape];
    }

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<float> input, IReadOnlyList<int> inputShape, Span<float> output, ref SampleRandom random)
    {
        int slices = _mean.Length, size = input.Length / slices;
        for (int c = 0; c < slices; c++)
        {
            // (x − mean)·(1/std), as Normalization.Apply computes it, so the two give the same values.
            Span<float> to = output.Slice(c * size, size);
            System.Numerics.Tensors.TensorPrimitives.Add(input.Slice(c * size, size), -_mean[c], to);
            System.Numerics.Tensors.TensorPrimitives.Multiply(to, 1f / _std[c], to);
        }
    }
}
