namespace MiniNet.Data;

/// <summary>Fashion-MNIST (Zalando Research, MIT licence): 60,000 training and 10,000 test images of clothing, 28×28,
/// ten classes; a drop-in replacement for MNIST.</summary>
public static class FashionMnist
{
    /// <summary>File names, the publisher's MD5 sums and address, and the folder Debian's <c>dataset-fashion-mnist</c> installs.</summary>
    public static IdxDatasetSpec Spec { get; } = new(
        "fashion-mnist", "Fashion-MNIST",
        [
            ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
            ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
            ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
            ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
        ],
        [new Uri("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")],
        ["/usr/share/datasets/fashion-mnist"],
        "dataset-fashion-mnist",
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);

    /// <summary>Loads a split as (N, 1, 28, 28) images in [0, 1]; see <see cref="IdxImageDataset.Load"/> for where it looks.</summary>
    public static TensorDataset Load(Split split, DatasetOptions? options = null) => IdxImageDataset.Load(Spec, split, options);
}
