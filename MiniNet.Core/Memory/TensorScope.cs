using Microsoft.Extensions.Logging;

namespace MiniNet;

/// <summary>A region (typically one training or evaluation step) whose op outputs are recycled when it ends.</summary>
/// <remarks>
/// <para>Inside a scope, every tensor an op creates takes its storage from a pool; when the scope is disposed, those
/// tensors are released and their storage goes back to the pool for the next step. This removes the allocation and
/// garbage-collection cost of activations (a 128×1024 float tensor is a large-object-heap allocation in .NET).</para>
/// <para>A released tensor cannot be read: touching its data throws <see cref="ObjectDisposedException"/>, so a
/// mistake is loud, never silent. Call <see cref="Tensor.Keep"/> on an op output you need after the scope (or
/// <see cref="Tensor.Clone"/> it). Leaves you create (<c>Tensor.Zeros</c>, parameters) and gradients of leaves are
/// never scoped. Scopes nest; each releases what was created while it was the innermost one. A scope belongs to
/// the thread that began it.</para>
/// <example><code>
/// foreach (var (x, y) in loader)
/// {
///     using var step = TensorScope.Begin();
///     optimizer.ZeroGrad();
///     Tensor loss = model.Forward(x).CrossEntropy(y);
///     loss.Backward();
///     optimizer.Step();
///     total += loss.Item();
/// }
/// </code></example>
/// </remarks>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? t_current;

    /// <summary>Open scopes on one thread beyond which a scope is taken to have been left open by mistake (begun without
    /// <c>using</c> once per step, each step's scope then holds every later step's tensors): real nesting is a few deep.</summary>
    internal const int SuspiciousDepth = 64;

    /// <summary>Tensors in one scope beyond which it is taken to span many steps (begun once and never disposed).</summary>
    internal const int SuspiciousCount = 1 << 20;

    private static int s_warnedDepth, s_warnedCount;

    /// <summary>Lets the warnings above be given again (for tests).</summary>
    internal static void ResetWarnings() => (s_warnedDepth, s_warnedCount) = (0, 0);

    private readonly TensorScope? _outer;
    private readonly List<Tensor> _tensors = [];
    private readonly int _depth;
    private bool _disposed;

    private TensorScope(TensorScope? outer) => (_outer, _depth) = (outer, outer is null ? 1 : outer._depth + 1);

    /// <summary>Starts a scope on the current thread.</summary>
    /// <remarks>Once per process, a warning goes to <see cref="MiniNetLogging.Logger"/> when more than
    /// <see cref="SuspiciousDepth"/> scopes are open on one thread, or one scope holds more than
    /// <see cref="SuspiciousCount"/> tensors: the marks of a scope that is never disposed.</remarks>
    public static TensorScope Begin()
    {
        var scope = new TensorScope(t_current);
        if (scope._depth > SuspiciousDepth && Interlocked.Exchange(ref s_warnedDepth, 1) == 0)
            MiniNetLogging.Logger.LogWarning(
                "TensorScope: {Depth} scopes are open on one thread; a scope begun on every step and never disposed keeps every " +
                "later step's tensors alive, so memory grows step after step. Begin it with 'using var step = TensorScope.Begin();'.",
                scope._depth);
        return t_current = scope;
    }

    /// <summary>The innermost scope of the current thread, or null.</summary>
    internal static TensorScope? Current => t_current;

    /// <summary>How many tensors this scope will release.</summary>
    public int Count => _tensors.Count;

    internal void Register(Tensor tensor)
    {
        _tensors.Add(tensor);
        if (_tensors.Count == SuspiciousCount && Interlocked.Exchange(ref s_warnedCount, 1) == 0)
            MiniNetLogging.Logger.LogWarning(
                "TensorScope: one scope holds {Count} tensors; a scope that spans many steps (begun once, never disposed) keeps " +
                "them all alive. Begin one per step with 'using var step = TensorScope.Begin();'.", _tensors.Count);
    }

    internal void Unregister(Tensor tensor) => _tensors.Remove(tensor);

    /// <summary>Releases the scope's tensors and returns their storage to the pool.</summary>
    /// <exception cref="InvalidOperationException">Disposed on another thread, or while an inner scope is still open.</exception>
    public void Dispose()
    {
        if (_disposed) return;
        if (t_current != this)
            throw new InvalidOperationException("TensorScope: dispose scopes in reverse order of Begin, on the thread that began them.");
        _disposed = true;
        t_current = _outer;
        // Views (Reshape) share storage: return each array once.
        var returned = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        foreach (Tensor t in _tensors)
        {
            float[]? storage = t.Release();
            if (storage is not null && returned.Add(storage)) BufferPool.Return(storage);
        }
        _tensors.Clear();
    }
}
