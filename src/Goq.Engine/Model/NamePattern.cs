using System.Text;
using System.Text.RegularExpressions;

namespace Goq;

/// <summary>
/// A job-name pattern in PowerShell's wildcard syntax (<c>*</c>, <c>?</c>, <c>[abc]</c>, <c>[a-z]</c>, a backtick
/// escaping the next character), case-insensitive as Get-GoqJob -Name is, matched by the server's store so a listing
/// by name never sends the jobs that do not match.
/// </summary>
public sealed class NamePattern
{
    private readonly Regex _regex;

    public NamePattern(string pattern)
    {
        RegexText = ToRegex(pattern);
        _regex = new Regex(RegexText, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }

    /// <summary>
    /// The pattern as a regular expression, matched without regard to case, '.' matching any character: in a syntax
    /// PostgreSQL's regular expressions read the same way (escapes of punctuation, classes, anchors), for the store.
    /// </summary>
    public string RegexText { get; }

    public bool IsMatch(string? name) => name is not null && _regex.IsMatch(name);

    private static string ToRegex(string pattern)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '`' when i + 1 < pattern.Length:
                    regex.Append(Regex.Escape(pattern[++i].ToString()));
                    break;
                case '*':
                    regex.Append(".*");
                    break;
                case '?':
                    regex.Append('.');
                    break;
                case '[' when pattern.IndexOf(']', i + 1) is var close and > 0:
                    // A set or range: its characters as they are, but for '-' between two of them; nothing else is special.
                    regex.Append('[');
                    for (var j = i + 1; j < close; j++)
                    {
                        regex.Append(pattern[j] == '-' && j > i + 1 && j + 1 < close ? "-" : Regex.Escape(pattern[j].ToString()).Replace("]", @"\]").Replace("-", @"\-"));
                    }

                    regex.Append(']');
                    i = close;
                    break;
                default:
                    regex.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        return regex.Append('$').ToString();
    }
}
