// Regression from a CSV file to two float targets: CsvDataset.LoadTargets, Datasets.RandomSplit, standardisation fitted
// on the training rows, DataLoader.Create (float targets, prefetch), a bias-free BN network, MSELoss, AdamW with a
// one-cycle schedule. Without a file it writes a synthetic table of flats to runs/ and learns price and rent.
//   dotnet run -c Release --project samples/TabularRegression -- [--csv FILE --targets a,b] [--epochs N] [--seed S]
using TabularRegression;

string? csv = null;
string[] targets = HousingData.Targets;
int epochs = 40, seed = 0;
for (int i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--csv": csv = Value(); break;
        case "--targets": targets = Value().Split(','); break;
        case "--epochs": epochs = int.Parse(Value()); break;
        case "--seed": seed = int.Parse(Value()); break;
        default:
            Console.Error.WriteLine($"unknown option '{args[i]}'; options: --csv FILE --targets a,b --epochs N --seed S");
            return 2;
    }
}
if (csv is null)
{
    Directory.CreateDirectory("runs");                                       // runs/ is git-ignored
    csv = Path.Combine("runs", "flats.csv");
    HousingData.Write(csv, rows: 4000, seed: 1);
    Console.WriteLine($"wrote {csv}: 4000 synthetic flats ({string.Join(", ", HousingData.Features)} → {string.Join(", ", targets)})");
}

RegressionResult result = Regression.Run(csv, targets, epochs, seed, Console.Out);
Console.WriteLine("\ntest RMSE (the target's units)   network   predicting the mean");
for (int k = 0; k < result.Targets.Count; k++)
    Console.WriteLine($"  {result.Targets[k],-30} {result.TestRmse[k],9:F2} {result.BaselineRmse[k],12:F2}");
return 0;
