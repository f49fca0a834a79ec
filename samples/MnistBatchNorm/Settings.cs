namespace MnistBatchNorm;

/// <summary>The sample's options after parsing and validation.</summary>
public sealed record Settings(
    string Model, bool BatchNorm, string Activation, int[] Hidden, int Epochs, int BatchSize, float Lr, float Momentum,
    int Seed, string Schedule, string Dataset, string? DataDirectory, string OutputDirectory, int? Limit, string BnStats, bool Compare, bool ExportOnnx = false, bool SyncBatchNorm = false)
{
    /// <summary>A short name for this configuration, used in logs, CSV rows and legends.</summary>
    public string RunName => $"{(BatchNorm ? "BN" : "no BN")} {Model.ToUpperInvariant()}";
}

/// <summary>One row of metrics.csv.</summary>
public sealed record EpochMetrics(
    string Run, int Epoch, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy,
    double ImagesPerSecond, double Seconds);
