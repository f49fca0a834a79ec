namespace MiniNet;

public partial class Tensor
{
    /// <summary>Elementwise sum with broadcasting; see <see cref="Ops.Add(Tensor, Tensor)"/>.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Ops.Add(a, b);
    /// <summary>Elementwise difference with broadcasting; see <see cref="Ops.Sub(Tensor, Tensor)"/>.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Ops.Sub(a, b);
    /// <summary>Elementwise product with broadcasting; see <see cref="Ops.Mul(Tensor, Tensor)"/>.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Ops.Mul(a, b);
    /// <summary>Elementwise quotient with broadcasting; see <see cref="Ops.Div(Tensor, Tensor)"/>.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Ops.Div(a, b);
    /// <summary>Negation.</summary>
    public static Tensor operator -(Tensor x) => Ops.Neg(x);

    /// <summary>x + s.</summary>
    public static Tensor operator +(Tensor x, float s) => Ops.Add(x, s);
    /// <summary>s + x.</summary>
    public static Tensor operator +(float s, Tensor x) => Ops.Add(x, s);
    /// <summary>x − s.</summary>
    public static Tensor operator -(Tensor x, float s) => Ops.Add(x, -s);
    /// <summary>s − x.</summary>
    public static Tensor operator -(float s, Tensor x) => Ops.Add(Ops.Neg(x), s);
    /// <summary>x·s.</summary>
    public static Tensor operator *(Tensor x, float s) => Ops.Mul(x, s);
    /// <summary>s·x.</summary>
    public static Tensor operator *(float s, Tensor x) => Ops.Mul(x, s);
    /// <summary>x / s.</summary>
    public static Tensor operator /(Tensor x, float s) => Ops.Div(x, s);
    /// <summary>s / x.</summary>
    public static Tensor operator /(float s, Tensor x) => Ops.Mul(Ops.Pow(x, -1f), s);
}
