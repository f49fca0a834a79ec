namespace MiniNet;

/// <summary>Disables graph recording on the current thread until disposed; scopes nest.</summary>
public readonly struct NoGradScope : IDisposable
{
    private readonly bool _previous;

    internal NoGradScope(bool previous) => _previous = previous;

    /// <summary>Restores the recording state that was in force when the scope began.</summary>
    public void Dispose() => Autograd.Enabled = _previous;
}
