namespace MiniNet.Data;

/// <summary>Which half of a data set.</summary>
public enum Split
{
    /// <summary>The training images.</summary>
    Train,

    /// <summary>The test images.</summary>
    Test,
}

/// <summary>Where an MNIST-style data set lives: its file names and checksums, the addresses it is published at,
/// and folders a system package installs it into.</summary>
/// <param name="Name">Folder name, e.g. <c>fashion-mnist</c>.</param>
/// <param name="DisplayName">Name in messages, e.g. <c>Fashion-MNIST</c>.</param>
/// <param name="Files">The four gzip file names (train images, train labels, test images, test labels) with the MD5 the publisher lists.</param>
/// <param name="Mirrors">Base addresses to download from, in order.</param>
/// <param name="SystemDirectories">Folders a package manager installs the files into.</param>
/// <param name="Package">The Debian package that installs them, or null.</param>
/// <param name="Classes">Class names by label.</param>
public sealed record IdxDatasetSpec(
    string Name,
    string DisplayName,
    IReadOnlyList<(string File, string Md5)> Files,
    IReadOnlyList<Uri> Mirrors,
    IReadOnlyList<string> SystemDirectories,
    string? Package,
    IReadOnlyList<string> Classes)
{
    /// <summary>The (images, labels) file entries of a split.</summary>
    public ((string File, string Md5) Images, (string File, string Md5) Labels) FilesOf(Split split) =>
        split == Split.Train ? (Files[0], Files[1]) : (Files[2], Files[3]);
}
