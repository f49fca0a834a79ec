using MiniNet.Data;
using MiniNet.Data.Transforms;

namespace MiniNet.Tests.Data;

[TestFixture]
public class TransformTests
{
    /// <summary>Applies <paramref name="transform"/> to <paramref name="input"/> of <paramref name="shape"/> with the given generator.</summary>
    private static float[] Run(ITransform transform, float[] input, int[] shape, ulong seed = 1)
    {
        var output = new float[Shapes.Numel(transform.OutputShape(shape))];
        var random = new SampleRandom(seed);
        transform.Apply(input, shape, output, ref random);
        return output;
    }

    /// <summary>A (planes, h, w) image whose value at (p, i, j) is 100·p + 10·i + j.</summary>
    private static float[] Image(int planes, int h, int w) =>
        [.. Enumerable.Range(0, planes * h * w).Select(k => 100f * (k / (h * w)) + 10 * (k / w % h) + k % w)];

    [Test]
    public void Flips_AtProbabilityOneMirror_AtZeroCopy()
    {
        float[] image = Image(2, 2, 3);
        Assert.That(Run(new RandomHorizontalFlip(1), image, [2, 2, 3]), Is.EqualTo(new float[] { 2, 1, 0, 12, 11, 10, 102, 101, 100, 112, 111, 110 }));
        Assert.That(Run(new RandomVerticalFlip(1), image, [2, 2, 3]), Is.EqualTo(new float[] { 10, 11, 12, 0, 1, 2, 110, 111, 112, 100, 101, 102 }));
        Assert.That(Run(new RandomHorizontalFlip(0), image, [2, 2, 3]), Is.EqualTo(image));
        Assert.That(Run(new RandomVerticalFlip(0), image, [2, 2, 3]), Is.EqualTo(image));
        Assert.That(() => new RandomHorizontalFlip(1.5), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("1.5"));
        Assert.That(() => new RandomVerticalFlip(double.NaN), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Flip_AtOneHalf_FlipsAboutHalfTheSamples()
    {
        int flipped = 0;
        for (int index = 0; index < 2000; index++)
        {
            var random = SampleRandom.For(seed: 5, epoch: 0, index);
            var output = new float[2];
            new RandomHorizontalFlip().Apply([0f, 1f], [1, 2], output, ref random);
            if (output[0] == 1f) flipped++;
        }
        Assert.That(flipped, Is.InRange(900, 1100));
    }

    [Test]
    public void Crop_WithoutPaddingToTheFullSize_IsTheIdentity()
    {
        float[] image = Image(3, 4, 5);
        Assert.That(Run(new RandomCrop(4, 5, 0, 0, 0, 0), image, [3, 4, 5]), Is.EqualTo(image));
    }

    [Test]
    public void Crop_IsAWindowOfThePaddedImage_SameForEveryChannel()
    {
        // Every crop of a 2×4×4 image padded by 2 with fill −1 must be a window of the padded image, at the same
        // position in both channels, and over many seeds every position must occur.
        float[] image = Image(2, 4, 4);
        var crop = new RandomCrop(4, padding: 2, fill: -1);
        var positions = new HashSet<(int, int)>();
        for (ulong seed = 0; seed < 400; seed++)
        {
            float[] output = Run(crop, image, [2, 4, 4], seed);
            (int, int)? found = null;
            for (int top = 0; top <= 4 && found is null; top++)
                for (int left = 0; left <= 4 && found is null; left++)
                    if (IsWindow(output, image, top, left)) found = (top, left);
            Assert.That(found, Is.Not.Null, $"seed {seed}: the crop is no window of the padded image");
            positions.Add(found!.Value);
        }
        Assert.That(positions, Has.Count.EqualTo(25), "every one of the 5×5 positions occurs");

        static bool IsWindow(float[] output, float[] image, int top, int left)
        {
            for (int p = 0; p < 2; p++)
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++)
                    {
                        int y = top + i - 2, x = left + j - 2;
                        float expected = y is >= 0 and < 4 && x is >= 0 and < 4 ? image[p * 16 + y * 4 + x] : -1;
                        if (output[p * 16 + i * 4 + j] != expected) return false;
                    }
            return true;
        }
    }

    [Test]
    public void Crop_EdgeAndReflectPadding_AsTorchvision()
    {
        // A 1×3 image [0 1 2] padded by 2 on the left and cut at the far left: edge repeats the first pixel
        // (numpy 'edge'), reflect mirrors without repeating it (numpy 'reflect', torchvision's padding_mode="reflect").
        float[] line = [0, 1, 2];
        Assert.That(Run(new RandomCrop(1, 3, 2, 0, 0, 0, PaddingMode.Edge), line, [1, 3], FirstPosition(5)), Is.EqualTo(new float[] { 0, 0, 0 }));
        Assert.That(Run(new RandomCrop(1, 3, 2, 0, 0, 0, PaddingMode.Reflect), line, [1, 3], FirstPosition(5)), Is.EqualTo(new float[] { 2, 1, 0 }));
        Assert.That(Run(new RandomCrop(1, 3, 0, 0, 2, 0, PaddingMode.Reflect), line, [1, 3], LastPosition(5)), Is.EqualTo(new float[] { 2, 1, 0 }));
        Assert.That(Run(new RandomCrop(1, 3, 0, 0, 2, 0, PaddingMode.Edge), line, [1, 3], LastPosition(5)), Is.EqualTo(new float[] { 2, 2, 2 }));
    }

    [Test]
    public void Crop_OfRows_PadsTopAndBottomAsColumns()
    {
        // A 3×1 column [0 1 2] padded by 2 on top: edge repeats the first row, reflect mirrors without repeating it.
        float[] column = [0, 1, 2];
        Assert.That(Run(new RandomCrop(3, 1, 0, 2, 0, 0, PaddingMode.Edge), column, [3, 1], FirstRowPosition(3)), Is.EqualTo(new float[] { 0, 0, 0 }));
        Assert.That(Run(new RandomCrop(3, 1, 0, 2, 0, 0, PaddingMode.Reflect), column, [3, 1], FirstRowPosition(3)), Is.EqualTo(new float[] { 2, 1, 0 }));
        Assert.That(Run(new RandomCrop(3, 1, 0, 2, 0, 0), column, [3, 1], FirstRowPosition(3)), Is.EqualTo(new float[] { 0, 0, 0 }));
    }

    private static ulong FirstRowPosition(int positions)
    {
        for (ulong seed = 0; ; seed++)
        {
            var random = new SampleRandom(seed);
            if (random.Next(positions) == 0) return seed;
        }
    }

    [Test]
    public void Crop_ThatLandsWhollyInThePadding_IsFill()
    {
        // Padding wider than the crop: some crops lie entirely beside the image.
        var crop = new RandomCrop(2, padding: 3, fill: -1);
        int allFill = 0;
        for (ulong seed = 0; seed < 300; seed++)
        {
            float[] output = Run(crop, Image(1, 4, 4), [1, 4, 4], seed);
            if (output.All(v => v == -1)) allFill++;
        }
        Assert.That(allFill, Is.GreaterThan(0));
    }

    /// <summary>A seed whose crop of a 1-row image with <paramref name="positions"/> horizontal positions starts at the first one.</summary>
    private static ulong FirstPosition(int positions) => SeedFor(positions, 0);

    private static ulong LastPosition(int positions) => SeedFor(positions, positions - 1);

    private static ulong SeedFor(int positions, int wanted)
    {
        for (ulong seed = 0; ; seed++)
        {
            var random = new SampleRandom(seed);
            random.Next(1);   // the row position (a single one)
            if (random.Next(positions) == wanted) return seed;
        }
    }

    [Test]
    public void Crop_BadArguments_AreNamed()
    {
        Assert.That(() => new RandomCrop(0), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new RandomCrop(4, padding: -1), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("-1"));
        Assert.That(() => new RandomCrop(8).OutputShape([1, 4, 4]), Throws.ArgumentException.With.Message.Contains("(1, 4, 4)").And.Message.Contains("8×8"));
        Assert.That(() => new RandomCrop(4, padding: 4, mode: PaddingMode.Reflect).OutputShape([1, 4, 4]),
            Throws.ArgumentException.With.Message.Contains("reflect"));
        Assert.That(() => new RandomCrop(4).OutputShape([16]), Throws.ArgumentException.With.Message.Contains("(16)").And.Message.Contains("not images"));
    }

    [Test]
    public void Normalize_PerChannelOrForAll()
    {
        float[] image = [1, 2, 3, 4, 10, 20, 30, 40];
        Assert.That(Run(new Normalize([2, 20], [1, 10]), image, [2, 2, 2]), Is.EqualTo(new float[] { -1, 0, 1, 2, -1, 0, 1, 2 }));
        Assert.That(Run(new Normalize([1], [0.5f]), [1, 2, 3], [3]), Is.EqualTo(new float[] { 0, 2, 4 }));
        Assert.That(() => new Normalize([0, 0], [1]), Throws.ArgumentException.With.Message.Contains("2 means and 1"));
        Assert.That(() => new Normalize([0], [0]), Throws.ArgumentException.With.Message.Contains("positive"));
        Assert.That(() => new Normalize([float.NaN], [1]), Throws.ArgumentException.With.Message.Contains("NaN"));
        Assert.That(() => new Normalize([0, 0, 0], [1, 1, 1]).OutputShape([2, 4, 4]), Throws.ArgumentException.With.Message.Contains("(2, 4, 4)"));
    }

    [Test]
    public void NormalizationTransform_GivesWhatApplyGives()
    {
        Tensor x = Tensor.Randn([20, 3, 4, 4], seed: 2);
        Normalization fitted = Normalization.Fit(x);
        Tensor ahead = fitted.Apply(x);
        var loader = new DataLoader(new TensorDataset(x, new int[20]), 20, transform: fitted.Transform());
        foreach ((Tensor batch, int[] _) in loader)
            Assert.That(batch.ToArray(), Is.EqualTo(ahead.ToArray()).Within(1e-6f));
    }

    [Test]
    public void Compose_ChainsShapesAndRejectsEmpty()
    {
        var compose = new Compose(new RandomCrop(3), new RandomHorizontalFlip(1));
        Assert.That(compose.OutputShape([2, 5, 6]), Is.EqualTo(new[] { 2, 3, 3 }));
        Assert.That(() => new Compose(), Throws.ArgumentException);
        Assert.That(() => compose.OutputShape([2, 2, 2]), Throws.ArgumentException.With.Message.Contains("(2, 2, 2)"));
    }

    /// <summary>n 1×6×6 images whose every pixel of image i is i + (pixel position)/100, labelled i.</summary>
    private static TensorDataset Indexed(int n)
    {
        var x = new float[n * 36];
        for (int i = 0; i < x.Length; i++) x[i] = i / 36 + i % 36 / 100f;
        return new TensorDataset(Tensor.FromArray(x, n, 1, 6, 6), [.. Enumerable.Range(0, n)]);
    }

    /// <summary>Each sample's transformed features by its label, over one epoch.</summary>
    private static Dictionary<int, float[]> ByLabel(DataLoader loader)
    {
        var result = new Dictionary<int, float[]>();
        foreach ((Tensor x, int[] y) in loader)
        {
            int size = Shapes.Numel(x.Shape.Skip(1).ToArray());
            float[] all = x.ToArray();
            for (int i = 0; i < y.Length; i++) result[y[i]] = all[(i * size)..((i + 1) * size)];
        }
        return result;
    }

    [Test]
    public void Loader_AppliesTransformsPerSample_SeededByEpochAndIndexOnly()
    {
        var augment = new Compose(new RandomCrop(4, padding: 1), new RandomHorizontalFlip());
        var a = new DataLoader(Indexed(30), 7, shuffle: true, seed: 9, transform: augment);
        var b = new DataLoader(Indexed(30), 4, shuffle: true, seed: 9, prefetch: true, transform: augment);
        Dictionary<int, float[]> first = ByLabel(a), again = ByLabel(b);
        Assert.That(first.Keys.Order(), Is.EqualTo(Enumerable.Range(0, 30)));
        foreach ((int label, float[] values) in first)
        {
            Assert.That(values, Has.Length.EqualTo(16), "cropped to 1×4×4");
            Assert.That(values.Where(v => v != 0).All(v => (int)v == label), Is.True, $"sample {label} holds its own pixels (or padding)");
            Assert.That(again[label], Is.EqualTo(values), $"sample {label}: the same augmentation whatever the batch size or thread");
        }
        Dictionary<int, float[]> next = ByLabel(a);
        Assert.That(first.Keys.Count(k => !first[k].SequenceEqual(next[k])), Is.GreaterThan(20), "the next epoch draws new augmentations");
        Assert.That(() => new DataLoader(Indexed(3), 2, transform: new RandomCrop(8)), Throws.ArgumentException.With.Message.Contains("(1, 6, 6)"));
    }
}
