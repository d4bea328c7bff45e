namespace Goq.Errors;

/// <summary>Every failure the engine reports to its callers: a stable id, a kind, a readable message.</summary>
public sealed class GoqException : Exception
{
    public GoqException(string errorId, GoqErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
    }

    public string ErrorId { get; }

    public GoqErrorKind Kind { get; }

    /// <summary>What the error is about (a job id, a path, an endpoint), for the ErrorRecord's target.</summary>
    public object? Target { get; init; }

    /// <summary>What the user should do; by default the one for <see cref="ErrorId"/> (see GoqRecommendedActions).</summary>
    public string RecommendedAction
    {
        get => _recommendedAction ?? GoqRecommendedActions.For(ErrorId);
        init => _recommendedAction = value;
    }

    private readonly string? _recommendedAction;
}
