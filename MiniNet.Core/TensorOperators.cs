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

    /// <summary>a &gt; b as a bool mask; see <see cref="Ops.Gt(Tensor, Tensor)"/>. (== and != keep their reference meaning:
    /// use <see cref="Ops.Eq(Tensor, Tensor)"/> and <see cref="Ops.Ne(Tensor, Tensor)"/>.)</summary>
    public static Tensor operator >(Tensor a, Tensor b) => Ops.Gt(a, b);
    /// <summary>a &lt; b as a bool mask.</summary>
    public static Tensor operator <(Tensor a, Tensor b) => Ops.Lt(a, b);
    /// <summary>a ≥ b as a bool mask.</summary>
    public static Tensor operator >=(Tensor a, Tensor b) => Ops.Ge(a, b);
    /// <summary>a ≤ b as a bool mask.</summary>
    public static Tensor operator <=(Tensor a, Tensor b) => Ops.Le(a, b);
    /// <summary>x &gt; s as a bool mask.</summary>
    public static Tensor operator >(Tensor x, double s) => Ops.Gt(x, s);
    /// <summary>x &lt; s as a bool mask.</summary>
    public static Tensor operator <(Tensor x, double s) => Ops.Lt(x, s);
    /// <summary>x ≥ s as a bool mask.</summary>
    public static Tensor operator >=(Tensor x, double s) => Ops.Ge(x, s);
    /// <summary>x ≤ s as a bool mask.</summary>
    public static Tensor operator <=(Tensor x, double s) => Ops.Le(x, s);
    /// <summary>s &gt; x as a bool mask.</summary>
    public static Tensor operator >(double s, Tensor x) => Ops.Lt(x, s);
    /// <summary>s &lt; x as a bool mask.</summary>
    public static Tensor operator <(double s, Tensor x) => Ops.Gt(x, s);
    /// <summary>s ≥ x as a bool mask.</summary>
    public static Tensor operator >=(double s, Tensor x) => Ops.Le(x, s);
    /// <summary>s ≤ x as a bool mask.</summary>
    public static Tensor operator <=(double s, Tensor x) => Ops.Ge(x, s);

    /// <summary>Advanced indexing, <c>x[index]</c>: an int64 index picks rows, a bool mask picks entries; see
    /// <see cref="Ops.Index(Tensor, Tensor)"/>.</summary>
    [System.Runtime.CompilerServices.IndexerName("At")]
    public Tensor this[Tensor index] => Ops.Index(this, index);
}
