namespace MiniNet;

/// <summary>One recorded op in the autograd graph: its name, its inputs, and how to push a gradient back to them.</summary>
/// <remarks>The backward delegate receives dL/d(output) and writes each input's gradient into the buffer
/// <see cref="Autograd.GradTarget"/> gives for it. After <see cref="Tensor.Backward(bool)"/> without retainGraph the
/// delegate is dropped, freeing what it captured.</remarks>
public sealed class Node
{
    private Action<Tensor>? _backward;
    private Action? _release;

    internal Node(string name, Tensor[] inputs, Action<Tensor> backward, Action? release)
    {
        Name = name;
        Inputs = inputs;
        _backward = backward;
        _release = release;
    }

    /// <summary>The op's name, e.g. <c>"matmul"</c>.</summary>
    public string Name { get; }

    /// <summary>The tensors the op read.</summary>
    public IReadOnlyList<Tensor> Inputs { get; private set; }

    /// <summary>False once the graph has been freed by a backward pass.</summary>
    public bool IsAlive => _backward is not null;

    internal void EnsureAlive()
    {
        if (_backward is null)
            throw new InvalidOperationException(
                $"Backward: the graph through '{Name}' was already freed by an earlier backward pass; " +
                "pass retainGraph: true to the first Backward call to go through it twice.");
    }

    internal void RunBackward(Tensor gradOutput)
    {
        EnsureAlive();
        _backward!(gradOutput);
    }

    internal void Free()
    {
        _backward = null;
        Inputs = [];
        _release?.Invoke();
        _release = null;
    }
}
