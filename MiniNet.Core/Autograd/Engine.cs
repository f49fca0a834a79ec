namespace MiniNet;

/// <summary>Reverse-mode differentiation: order the graph, give every tensor on it a zeroed gradient, walk it backwards.</summary>
internal static class Engine
{
    public static void Backward(Tensor root, Tensor gradient, bool retainGraph)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException(
                "Backward: this tensor does not require grad and has no graph (no input required grad, or it was computed under NoGrad).");

        List<Tensor> order = TopologicalOrder(root);   // inputs before outputs

        // Every non-leaf on the graph gets a gradient from the buffer pool when it is first touched (zeroed, or left
        // uninitialised for a backward function that overwrites it: Tensor.AcquireGrad), so it is cleared just before
        // use instead of all at the start; it is returned as soon as its node has run. Leaves keep theirs (ordinary
        // arrays) so that calls accumulate.
        foreach (Tensor t in order)
        {
            if (!t.IsLeaf) t.DeferGrad();
            else t.PrepareLeafGrad();
        }
        root.Grad!.Data.Add(gradient.Data);

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
            }
        }
        finally
        {
            // Intermediate gradients never touched (after a failure) read as null, as after a completed pass; a leaf
            // that received nothing reads as zeros, as in PyTorch.
            foreach (Tensor t in order)
                if (t.GradPending)
                {
                    if (t.IsLeaf) _ = t.Grad;
                    else t.Grad = null;
                }
        }
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
