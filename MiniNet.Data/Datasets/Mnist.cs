namespace MiniNet.Data;

/// <summary>MNIST handwritten digits: 60,000 training and 10,000 test images, 28×28, labels 0–9 (CC BY-SA 3.0).</summary>
public static class Mnist
{
    /// <summary>File names, the publishers' MD5 sums and addresses (Yann LeCun's page, then a widely used mirror).</summary>
    public static IdxDatasetSpec Spec { get; } = new(
        "mnist", "MNIST",
        [
            ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
            ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
            ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
            ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
        ],
        [new Uri("http://yann.lecun.com/exdb/mnist/"), new Uri("https://ossci-datasets.s3.amazonaws.com/mnist/")],
        [],
        null,
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);

    /// <summary>Loads a split as (N, 1, 28, 28) images in [0, 1]; see <see cref="IdxImageDataset.Load"/> for where it looks.</summary>
    public static TensorDataset Load(Split split, DatasetOptions? options = null) => IdxImageDataset.Load(Spec, split, options);
}
