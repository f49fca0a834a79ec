namespace MiniNet.Layers;

/// <summary>The handle of a registered hook or observer: disposing it (once; later calls do nothing) unregisters it.</summary>
internal sealed class Registration(Action remove) : IDisposable
{
    private Action? _remove = remove;

    public void Dispose()
    {
        _remove?.Invoke();
        _remove = null;
    }
}

/// <summary>Marks a field of a module that <see cref="Module.Clone"/> leaves empty (null) in the copy: hooks and
/// observers belong to the original.</summary>
[AttributeUsage(AttributeTargets.Field)]
internal sealed class NotCopiedAttribute : Attribute;
