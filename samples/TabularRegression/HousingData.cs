using System.Globalization;

namespace TabularRegression;

/// <summary>A synthetic table of flats: five features and two targets (price and monthly rent) that depend on them
/// non-linearly, with noise, so a small network clearly beats predicting the mean.</summary>
public static class HousingData
{
    /// <summary>The feature columns, in file order.</summary>
    public static readonly string[] Features = ["area_m2", "rooms", "age_years", "distance_km", "floor"];

    /// <summary>The target columns.</summary>
    public static readonly string[] Targets = ["price_k", "rent"];

    /// <summary>Writes <paramref name="rows"/> flats to a CSV file at <paramref name="path"/> (header first), the same
    /// rows for the same seed.</summary>
    public static void Write(string path, int rows, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        var random = new Random(seed);
        double Uniform(double low, double high) => low + (high - low) * random.NextDouble();
        double Noise(double sd) => sd * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        using var writer = new StreamWriter(path);
        writer.WriteLine(string.Join(",", Features.Concat(Targets)));
        for (int i = 0; i < rows; i++)
        {
            double area = Uniform(25, 180), age = Uniform(0, 90), distance = Uniform(0.3, 25);
            int rooms = Math.Clamp((int)Math.Round(area / 30 + Noise(0.7)), 1, 7), floor = random.Next(0, 12);
            // Price falls off with distance from the centre, old buildings lose value until they become "period"
            // flats again, and a high floor is worth more in the centre than in the suburbs.
            double location = Math.Exp(-distance / 8);
            double price = area * (2.2 + 4.5 * location) + 15 * rooms - 2.4 * age + 0.028 * age * age
                + floor * 6 * location + Noise(12);
            double rent = 0.0375 * price * (1 + 0.3 * location) + 25 * rooms + Noise(20);
            writer.WriteLine(string.Join(",", new[] { area, rooms, age, distance, floor, price, rent }
                .Select(v => v.ToString("0.###", CultureInfo.InvariantCulture))));
        }
    }
}
