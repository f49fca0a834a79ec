using System.Globalization;
using System.Text;
using MathNet.Numerics.Distributions;

namespace MiniNet;

/// <summary>
/// A dense tensor: contiguous, row-major storage plus a shape. Images are (N, C, H, W). Values are float32, the
/// compute type; int64 and bool tensors (<see cref="DType"/>) hold indices, counts, labels and masks.
/// </summary>
/// <remarks>
/// A tensor produced by an op while gradients are enabled remembers that op (its <see cref="Node"/>),
/// so <see cref="Tensor.Backward(bool)"/> can walk the graph in reverse. Leaf tensors with <see cref="RequiresGrad"/>
/// accumulate gradients in <see cref="Grad"/> across calls, as in PyTorch.
/// </remarks>
public partial class Tensor
{
    private float[]? _storage;         // float32 values; null for other dtypes, and once released by a TensorScope
    private Array? _values;            // the long[] or bool[] of an Int64 or Bool tensor (Tensor.DTypes.cs)
    private readonly int[] _shape;
    private readonly Tensor? _base;     // the tensor whose storage a view shares
    private readonly bool _pooled;      // storage came from the BufferPool and goes back to it on release
    private StorageLease? _lease;       // pooled storage of an unscoped tensor, returned once the tensor is unreachable

    /// <summary>Wraps <paramref name="storage"/> (not copied) as a tensor of the given shape.</summary>
    internal Tensor(float[] storage, int[] shape) : this(storage, shape, viewOf: null, pooled: false) { }

    private Tensor(float[] storage, int[] shape, Tensor? viewOf, bool pooled)
    {
        int numel = Shapes.Numel(shape);
        if (storage.Length < numel)
            throw new ArgumentException($"Tensor: storage of {storage.Length} floats is too small for shape {Shapes.Format(shape)}.", nameof(shape));
        _storage = storage;
        _shape = shape;
        _base = viewOf?._base ?? viewOf;
        _pooled = pooled;
        Numel = numel;
        DType = DType.Float32;
    }

    /// <summary>Creates a tensor that shares the storage of <paramref name="other"/> (used by <see cref="Parameter"/>).</summary>
    /// <exception cref="InvalidOperationException"><paramref name="other"/> is not float32.</exception>
    protected Tensor(Tensor other) : this(other.ExposedStorage(), other._shape) { }

    private float[] ExposedStorage()
    {
        Expose();   // the new tensor shares the array without keeping this one reachable
        return Storage;
    }

    /// <summary>The type of the elements: <see cref="DType.Float32"/> (every op computes in it), <see cref="DType.Int64"/>
    /// or <see cref="DType.Bool"/>.</summary>
    public DType DType { get; }

    /// <summary>An op's output: uninitialised storage, from the pool and released with the scope when a
    /// <see cref="TensorScope"/> is active, from the garbage-collected heap otherwise.</summary>
    internal static Tensor Allocate(params int[] shape)
    {
        TensorScope? scope = TensorScope.Current;
        int numel = Shapes.Numel(shape);
        if (scope is null) return Leased(numel, shape);
        var t = new Tensor(BufferPool.Rent(numel), shape, viewOf: null, pooled: true);
        scope.Register(t);
        return t;
    }

    /// <summary>A tensor outside any scope whose storage comes from the pool and goes back to it once nothing can reach
    /// the tensor, its views or a span of its <see cref="Data"/> (see <see cref="StorageLease"/>); small ones take
    /// ordinary arrays.</summary>
    private static Tensor Leased(int numel, int[] shape)
    {
        if (numel < BufferPool.MinPooledLength) return new Tensor(GC.AllocateUninitializedArray<float>(numel), shape);
        float[] storage = BufferPool.RentLeased(numel);
        return new Tensor(storage, shape) { _lease = new StorageLease(storage) };
    }

    /// <summary>The tensor that owns this one's storage: itself, or the base of a view.</summary>
    private Tensor Owner => _base ?? this;

    /// <summary>Takes this tensor's storage out of recycling for good: its array may now be reached by something the
    /// runtime cannot trace back to the tensor (a span handed out by <see cref="Data"/>, another tensor sharing it).</summary>
    internal void Expose() => Owner._lease?.Expose();

    /// <summary>A view: the same storage under another shape (Reshape, Detach). Inside a scope it is released with it.</summary>
    internal static Tensor View(Tensor of, int[] shape)
    {
        var t = new Tensor(of.Storage, shape, viewOf: of, pooled: false);
        if (t._base!._pooled) TensorScope.Current?.Register(t);   // a view of pooled storage must not outlive it
        return t;
    }

    /// <summary>Pooled working memory owned by the caller (engine gradients), returned with <see cref="ReturnScratch"/>.</summary>
    internal static Tensor Scratch(int[] shape, bool zeroed)
    {
        int numel = Shapes.Numel(shape);
        return new Tensor(zeroed ? BufferPool.RentZeroed(numel) : BufferPool.Rent(numel), shape, viewOf: null, pooled: true);
    }

    /// <summary>Gives a <see cref="Scratch"/> tensor's storage back to the pool; the tensor becomes unusable.</summary>
    internal void ReturnScratch()
    {
        if (Release() is { } storage) BufferPool.Return(storage);
    }

    /// <summary>Marks the tensor released; returns its storage when it owns pooled storage, else null.</summary>
    internal float[]? Release()
    {
        float[]? storage = _storage;
        _storage = null;
        _values = null;
        return _pooled ? storage : null;
    }

    /// <summary>Keeps an op output alive after its <see cref="TensorScope"/> ends (it is simply left to the garbage collector).</summary>
    /// <returns>This tensor.</returns>
    public Tensor Keep()
    {
        TensorScope? scope = TensorScope.Current;
        scope?.Unregister(this);
        if (_base is not null) scope?.Unregister(_base);   // a view needs the storage it shares
        return this;
    }

    /// <summary>False once the tensor's <see cref="TensorScope"/> has ended (and it was not kept).</summary>
    public bool IsAlive => _storage is not null || _values is not null;

    /// <summary>The sizes of the dimensions, outermost first.</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The shape as the internal array; ops read it, never write it.</summary>
    internal int[] Dims => _shape;

    /// <summary>The number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>The number of elements (the product of the shape; 1 for a scalar of rank 0).</summary>
    public int Numel { get; }

    /// <summary>The float32 elements in row-major order. Writing to it changes the tensor in place, unseen by autograd.</summary>
    /// <exception cref="ObjectDisposedException">The tensor was released at the end of its <see cref="TensorScope"/>.</exception>
    /// <exception cref="InvalidOperationException">The tensor is not float32 (see <see cref="Int64Data"/>, <see cref="BoolData"/>).</exception>
    /// <remarks>The storage of a tensor whose span has been handed out is never recycled: a span does not keep its
    /// tensor reachable, so recycling could otherwise reuse memory the caller still reads.</remarks>
    public Span<float> Data
    {
        get
        {
            Span<float> values = Storage.AsSpan(0, Numel);
            Expose();
            return values;
        }
    }

    /// <summary>The elements, for MiniNet's own ops, which keep the tensor reachable for as long as they use the span
    /// (an op passes its inputs to <see cref="Autograd.Record"/> after computing, and returns its output), so unlike
    /// <see cref="Data"/> it leaves the storage recyclable.</summary>
    internal Span<float> Values => Storage.AsSpan(0, Numel);

    /// <summary>The backing array (at least <see cref="Numel"/> long); shared by views such as <see cref="Ops.Reshape"/>.</summary>
    internal float[] Storage => _storage ?? throw Unavailable(DType.Float32);

    /// <summary>The error for reading elements of <paramref name="wanted"/> type: released, or of another type.</summary>
    private Exception Unavailable(DType wanted) => _storage is null && _values is null
        ? new ObjectDisposedException(nameof(Tensor),
            $"This tensor of shape {Shapes.Format(_shape)} was released when its TensorScope ended; call Keep() or Clone() inside the scope to use it afterwards.")
        : new InvalidOperationException(
            $"This tensor of shape {Shapes.Format(_shape)} holds {DType} values, not {wanted}; convert it with To(DType.{wanted}).");

    /// <summary>The size of dimension <paramref name="dim"/>; negative values count from the end.</summary>
    public int Size(int dim) => _shape[Shapes.NormalizeAxis(dim, Rank, "Size")];

    // ---- Factories -------------------------------------------------------------------------

    /// <summary>A tensor over a copy of <paramref name="data"/> with the given shape.</summary>
    /// <exception cref="ArgumentException">The shape's element count differs from the data length.</exception>
    public static Tensor FromArray(float[] data, params int[] shape)
    {
        CheckData(data, shape, "FromArray");
        Tensor t = Leased(data.Length, (int[])shape.Clone());
        data.CopyTo(t.Storage, 0);
        return t;
    }

    /// <summary>A tensor over <paramref name="data"/> itself, not a copy: writing to the array changes the tensor and the
    /// other way round (PyTorch's <c>torch.from_numpy</c>). For data a program already holds, such as a batch it
    /// assembles in its own array each step: no copy, no allocation beyond the small tensor object.</summary>
    /// <exception cref="ArgumentException">The shape's element count differs from the array's length.</exception>
    public static Tensor Wrap(float[] data, params int[] shape)
    {
        CheckData(data, shape, "Wrap");
        return new Tensor(data, (int[])shape.Clone());
    }

    /// <summary>A tensor over a copy of <paramref name="data"/> with the given shape: for a batch sliced out of an array
    /// the program holds (<c>Tensor.FromSpan(images.AsSpan(start, count), shape)</c>) without an array of its own.</summary>
    /// <exception cref="ArgumentException">The shape's element count differs from the data length.</exception>
    public static Tensor FromSpan(ReadOnlySpan<float> data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        Shapes.Validate(shape, "FromSpan");
        if (Shapes.Numel(shape) != data.Length)
            throw new ArgumentException(
                $"FromSpan: shape {Shapes.Format(shape)} holds {Shapes.Numel(shape)} elements but the data have {data.Length}.", nameof(shape));
        Tensor t = Leased(data.Length, (int[])shape.Clone());
        data.CopyTo(t.Storage);
        return t;
    }

    private static void CheckData(float[] data, int[] shape, string op)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        Shapes.Validate(shape, op);
        if (Shapes.Numel(shape) != data.Length)
            throw new ArgumentException(
                $"{op}: shape {Shapes.Format(shape)} holds {Shapes.Numel(shape)} elements but the data have {data.Length}.", nameof(shape));
    }

    /// <summary>A one-dimensional tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor From(params float[] data) => FromArray(data, data.Length);

    /// <summary>A rank-0 tensor holding <paramref name="value"/>.</summary>
    public static Tensor Scalar(float value) => new([value], []);

    /// <summary>A tensor for an op's output, with unspecified contents that the op must overwrite. Inside a
    /// <see cref="TensorScope"/> its storage comes from the pool and it is released with the scope, exactly like
    /// MiniNet's own op outputs; use it in custom ops (see docs/extending.md).</summary>
    public static Tensor Empty(params int[] shape)
    {
        Shapes.Validate(shape, "Empty");
        return Allocate((int[])shape.Clone());
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(params int[] shape)
    {
        Shapes.Validate(shape, "Zeros");
        return new Tensor(new float[Shapes.Numel(shape)], (int[])shape.Clone());
    }

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(params int[] shape) => Full(shape, 1f);

    /// <summary>A tensor with every element equal to <paramref name="value"/>.</summary>
    public static Tensor Full(int[] shape, float value)
    {
        Tensor t = Zeros(shape);
        t.Data.Fill(value);
        return t;
    }

    /// <summary>Zeros with the shape of <paramref name="like"/>.</summary>
    public static Tensor ZerosLike(Tensor like) => Zeros(like._shape);

    /// <summary>Samples from N(0, 1) drawn from <see cref="Rng.Default"/>.</summary>
    public static Tensor Randn(params int[] shape) => Randn(shape, Rng.Default);

    /// <summary>Samples from N(0, 1) drawn from a new generator seeded with <paramref name="seed"/>.</summary>
    public static Tensor Randn(int[] shape, int seed) => Randn(shape, Rng.Create(seed));

    /// <summary>Samples from N(0, 1) drawn from <paramref name="generator"/> (MathNet.Numerics' normal sampler).</summary>
    public static Tensor Randn(int[] shape, System.Random generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        Tensor t = Zeros(shape);
        var samples = new double[t.Numel];
        Normal.Samples(generator, samples, 0.0, 1.0);
        Span<float> data = t.Data;
        for (int i = 0; i < samples.Length; i++) data[i] = (float)samples[i];
        return t;
    }

    /// <summary>Samples from U[0, 1) drawn from <see cref="Rng.Default"/>.</summary>
    public static Tensor Rand(params int[] shape) => Rand(shape, Rng.Default);

    /// <summary>Samples from U[0, 1) drawn from a new generator seeded with <paramref name="seed"/>.</summary>
    public static Tensor Rand(int[] shape, int seed) => Rand(shape, Rng.Create(seed));

    /// <summary>Samples from U[0, 1) drawn from <paramref name="generator"/>.</summary>
    public static Tensor Rand(int[] shape, System.Random generator) => Uniform(shape, 0f, 1f, generator);

    /// <summary>Samples from U[<paramref name="low"/>, <paramref name="high"/>) drawn from <paramref name="generator"/>.</summary>
    public static Tensor Uniform(int[] shape, float low, float high, System.Random generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (!(high >= low))
            throw new ArgumentOutOfRangeException(nameof(high), high, $"Uniform: high ({high}) must be at least low ({low}).");
        Tensor t = Zeros(shape);
        Span<float> data = t.Data;
        double range = (double)high - low;
        for (int i = 0; i < data.Length; i++)
        {
            float v = (float)(low + range * generator.NextDouble());
            data[i] = v < high ? v : low;   // NOTE: rounding to float can reach `high`; keep the interval half-open.
        }
        return t;
    }

    // ---- Reading -------------------------------------------------------------------------

    /// <summary>A copy of the elements in row-major order, as float32 (int64 and bool values converted: true is 1; see
    /// <see cref="ToInt64Array"/> and <see cref="ToBoolArray"/> for them as they are).</summary>
    public float[] ToArray()
    {
        float[] values = DType == DType.Float32 ? Values.ToArray() : To(DType.Float32).Values.ToArray();
        GC.KeepAlive(this);   // until the copy is made
        return values;
    }

    /// <summary>The value of a one-element tensor, as a float (an int64 or bool value converted: 1 for true).</summary>
    /// <exception cref="InvalidOperationException">The tensor has more than one element.</exception>
    public float Item()
    {
        if (Numel != 1)
            throw new InvalidOperationException($"Item: tensor of shape {Shapes.Format(_shape)} has {Numel} elements, not one.");
        return DType switch
        {
            DType.Int64 => Int64Data[0],
            DType.Bool => BoolData[0] ? 1f : 0f,
            _ => Storage[0],   // one element: never pooled storage
        };
    }

    /// <summary>The float32 element at the given indices (one per dimension, negative counting from the end).</summary>
    /// <exception cref="ArgumentException">The number of indices differs from the rank.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside its dimension.</exception>
    [System.Runtime.CompilerServices.IndexerName("At")]   // NOTE: the default name "Item" would clash with Item().
    public float this[params int[] indices]
    {
        get
        {
            float value = Storage[FlatIndex(indices)];
            GC.KeepAlive(this);   // until the value is read
            return value;
        }
        set
        {
            Storage[FlatIndex(indices)] = value;
            GC.KeepAlive(this);
        }
    }

    private int FlatIndex(int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.Length != Rank)
            throw new ArgumentException($"Indexer: tensor of shape {Shapes.Format(_shape)} needs {Rank} indices, got {indices.Length}.", nameof(indices));
        int flat = 0;
        for (int d = 0; d < Rank; d++)
        {
            int i = indices[d] < 0 ? indices[d] + _shape[d] : indices[d];
            if ((uint)i >= (uint)_shape[d])
                throw new ArgumentOutOfRangeException(nameof(indices), indices[d],
                    $"Indexer: index {indices[d]} is out of range for dimension {d} of size {_shape[d]} (tensor of shape {Shapes.Format(_shape)}).");
            flat = flat * _shape[d] + i;
        }
        return flat;
    }

    /// <summary>Shape, the type (when not float32), up to eight leading values, and the gradient status.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("Tensor");
        sb.Append(Shapes.Format(_shape));
        if (DType != DType.Float32) sb.Append(' ').Append(DType);
        sb.Append(" [");
        int shown = IsAlive ? Math.Min(Numel, 8) : 0;
        for (int i = 0; i < shown; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(DType switch
            {
                DType.Int64 => ((long[])_values!)[i].ToString(CultureInfo.InvariantCulture),
                DType.Bool => ((bool[])_values!)[i] ? "true" : "false",
                _ => _storage![i].ToString("G5", CultureInfo.InvariantCulture),
            });
        }
        if (!IsAlive) sb.Append("released");
        if (IsAlive && Numel > shown) sb.Append(", …");
        sb.Append(']');
        if (Node is not null) sb.Append(" grad_fn=").Append(Node.Name);
        else if (RequiresGrad) sb.Append(" requires_grad");
        return sb.ToString();
    }

    /// <summary>A deep copy of the values as a new leaf of the same type (not part of any graph).</summary>
    public Tensor Clone() => DType switch
    {
        DType.Float32 => FromSpan(Values, _shape),
        _ => new Tensor(DType == DType.Int64 ? Int64Data.ToArray() : BoolData.ToArray(), DType, (int[])_shape.Clone()),
    };

    /// <summary>Copies <paramref name="source"/>'s values into this tensor in place (shapes must have equal element counts).</summary>
    /// <remarks>Values of another type are converted as <see cref="To"/> converts them.</remarks>
    /// <exception cref="ArgumentException">The element counts differ, or a value cannot be converted.</exception>
    public void CopyFrom(Tensor source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Numel != Numel)
            throw new ArgumentException($"CopyFrom: source of shape {Shapes.Format(source._shape)} does not fit tensor of shape {Shapes.Format(_shape)}.", nameof(source));
        switch (DType)
        {
            case DType.Float32: (source.DType == DType.Float32 ? source : source.To(DType.Float32)).Values.CopyTo(Values); GC.KeepAlive(source); GC.KeepAlive(this); break;
            case DType.Int64: (source.DType == DType.Int64 ? source : source.To(DType.Int64)).Int64Data.CopyTo(Int64Data); break;
            default: (source.DType == DType.Bool ? source : source.To(DType.Bool)).BoolData.CopyTo(BoolData); break;
        }
    }
}
