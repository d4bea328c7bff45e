namespace Goq.Server;

/// <summary>
/// What a queue name or a worker label may be: 1 to 64 letters, digits, '-', '_' or '.'. Kept plain so a name is
/// safe in a table, a file name, a metric label and a shell, and compared without surprises (ordinal, case-sensitive).
/// </summary>
public static class NameRules
{
    public const int MaxLength = 64;

    /// <summary>At most this many labels on a worker, or required by a job.</summary>
    public const int MaxLabels = 64;

    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>Null when every name is valid and there are not too many, else what is wrong (for a message).</summary>
    public static string? Problem(IReadOnlyCollection<string>? names, string what)
    {
        if (names is null || names.Count > MaxLabels)
        {
            return $"has an invalid list of {what}s (at most {MaxLabels})";
        }

        return names.Any(n => !IsValid(n))
            ? $"has an invalid {what} '{names.First(n => !IsValid(n))}': use 1 to {MaxLength} letters, digits, '-', '_' or '.'"
            : null;
    }
}
