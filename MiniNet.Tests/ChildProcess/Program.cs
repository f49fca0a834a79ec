// Saves a 32 MB checkpoint to args[0] again and again; every value of save k equals k.
using MiniNet;

string path = args[0];
var tensor = Tensor.Zeros(8 << 20);
for (int k = 1; ; k++)
{
    tensor.Data.Fill(k);
    Safetensors.Save(new Dictionary<string, Tensor> { ["weight"] = tensor }, path);
    Console.WriteLine($"saved {k}");
}
