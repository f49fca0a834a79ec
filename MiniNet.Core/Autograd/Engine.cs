namespace MiniNet;

/// <summary>Reverse-mode differentiation: order the graph, give every tensor on it a gradient to receive, walk it
/// backwards.</summary>
internal static class Engine
{
    public static void Backward(Tensor root, Tensor gradient, bool retainGraph)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException(
                "Backward: this tensor does not require grad and has no graph (no input required grad, or it was computed under NoGrad).");

        List<Tensor> order = TopologicalOrder(root);   // inputs before outputs

        // Every non-leaf on the graph gets a pending gradient (GradientState): a pooled buffer once first touched,
        // returned as soon as its node has run. Leaves keep theirs (ordinary arrays) so that calls accumulate.
        foreach (Tensor t in order)
        {
            if (!t.IsLeaf) t.Gradient.Defer();
            else t.Gradient.PrepareLeaf(t);
        }
        root.Grad!.Values.Add(gradient.Values);
        List<Tensor>?[]? readyAfter = LeavesReadyAfter(order);
        if (root.IsLeaf && root.Gradient.HasHooks) root.Gradient.RunHooks(root);

        using (Autograd.NoGrad())
        try
        {
            for (int i = order.Count - 1; i >= 0; i--)
            {
                Tensor t = order[i];
                if (t.IsLeaf) continue;
                t.Node!.RunBackward(t.Grad!);
                if (Autograd.AnomalyDetection)
                    foreach (Tensor input in t.Node.Inputs)
                        if (input.RequiresGrad) Autograd.CheckFinite(input.Grad!, t.Node.Name + " (backward)", "an input's gradient");
                t.Grad!.ReturnScratch();   // PyTorch keeps gradients of leaves only; recycle the rest once consumed.
                t.Grad = null;
                if (!retainGraph) t.Node.Free();
                if (readyAfter?[i] is { } ready)
                    foreach (Tensor leaf in ready) leaf.Gradient.RunHooks(leaf);
            }
        }
        finally
        {
            // Intermediate gradients never touched (after a failure) read as null, as after a completed pass; a leaf
            // that received nothing reads as zeros, as in PyTorch.
            foreach (Tensor t in order)
                if (t.Gradient.Pending)
                {
                    if (t.IsLeaf) _ = t.Grad;
                    else t.Grad = null;
                }
        }
        if (!retainGraph) BufferPool.AfterBackward();   // the step's tensors are now garbage unless the caller holds them
    }

    /// <summary>For the leaves with post-accumulate hooks: the position in <paramref name="order"/> of the last node
    /// the reverse walk runs that feeds each of them (after it, that leaf's gradient is complete), as a list of leaves
    /// per position; null when no leaf has hooks.</summary>
    private static List<Tensor>?[]? LeavesReadyAfter(List<Tensor> order)
    {
        Dictionary<Tensor, int>? lastUse = null;
        for (int i = order.Count - 1; i >= 0; i--)
        {
            if (order[i].Node is not { } node) continue;
            foreach (Tensor input in node.Inputs)
                if (input.IsLeaf && input.RequiresGrad && input.Gradient.HasHooks)
                    (lastUse ??= new(ReferenceEqualityComparer.Instance))[input] = i;   // the walk's later visits overwrite
        }
        if (lastUse is null) return null;
        var ready = new List<Tensor>?[order.Count];
        foreach (var (leaf, position) in lastUse) (ready[position] ??= []).Add(leaf);
        return ready;
    }

    /// <summary>Post-order depth-first walk over tensors that require grad, iterative so deep graphs cannot overflow the stack.</summary>
    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor Tensor, int NextInput)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            t.Node?.EnsureAlive();
            IReadOnlyList<Tensor> inputs = t.Node?.Inputs ?? [];
            while (next < inputs.Count && (!inputs[next].RequiresGrad || visited.Contains(inputs[next]))) next++;
            if (next < inputs.Count)
            {
                stack.Push((t, next + 1));
                visited.Add(inputs[next]);
                stack.Push((inputs[next], 0));
            }
            else
            {
                order.Add(t);
            }
        }
        return order;
    }
}

file static class SpanExtensions
{
    /// <summary>dst += src, elementwise.</summary>
    public static void Add(this Span<float> dst, ReadOnlySpan<float> src) =>
        System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
}
