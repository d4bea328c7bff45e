using System.Text;
using static System.FormattableString;

namespace Goq;

/// <summary>
/// What Linux's exec takes, checked when a job is submitted rather than found out when it starts (E2BIG): one argument
/// or one environment entry (NAME=value) of at most MAX_ARG_STRLEN, 131,072 bytes with its terminating NUL, and the
/// arguments and environment together within ARG_MAX, a quarter of the stack limit: 2 MiB with the usual 8 MiB. The
/// worker's own variables (PATH, HOME and the like) come on top, so the total keeps 64 KiB free for them. A
/// script-block job's data travels on a channel, not as arguments: only its environment counts.
/// </summary>
public static class ExecLimits
{
    public const int MaxStringBytes = 128 * 1024;
    public const int MaxTotalBytes = (2 * 1024 * 1024) - (64 * 1024);

    /// <summary>
    /// What exec would refuse in the job, or null. <paramref name="shared"/> is the submitter's captured variables
    /// (measured once for a batch with <see cref="Measure"/>); a variable also in the job's own counts twice, a little
    /// on the safe side.
    /// </summary>
    public static string? Problem(JobSpec spec, Shared shared)
    {
        if (shared.Problem is { } sharedProblem)
        {
            return sharedProblem;
        }

        IEnumerable<string> arguments = spec.Kind switch
        {
            JobKind.Shell => [spec.Command],
            JobKind.Exec or JobKind.Script => [spec.Command, .. spec.ArgumentList ?? []],
            _ => [],
        };
        var total = shared.Bytes;
        var index = 0;
        foreach (var argument in arguments)
        {
            var bytes = Encoding.UTF8.GetByteCount(argument) + 1;
            if (bytes > MaxStringBytes)
            {
                var what = index == 0 ? (spec.Kind == JobKind.Shell ? "its command line" : "its program name") : $"argument {index}";
                return Invariant($"{what} takes {bytes:N0} bytes; Linux starts a program with at most {MaxStringBytes:N0} bytes (128 KiB) in one argument: pass it in a file, or on standard input of a command that reads one");
            }

            total += bytes + IntPtr.Size;
            index++;
        }

        foreach (var variables in new[] { spec.CapturedEnvironment, spec.Environment })
        {
            var (bytes, problem) = Measure(variables);
            if (problem is not null)
            {
                return problem;
            }

            total += bytes;
        }

        return total > MaxTotalBytes
            ? Invariant($"its arguments and environment take {total:N0} bytes; Linux starts a program with at most {MaxTotalBytes + (64 * 1024):N0} (2 MiB, with the usual 8 MiB stack), of which the worker's own variables need some: pass data in a file")
            : null;
    }

    /// <summary>What a set of variables takes in exec's arguments area, and a variable too long for it (or null).</summary>
    public static Shared Measure(IReadOnlyDictionary<string, string>? variables)
    {
        long total = 0;
        foreach (var (name, value) in variables ?? new Dictionary<string, string>())
        {
            var bytes = Encoding.UTF8.GetByteCount(name) + 1 + Encoding.UTF8.GetByteCount(value) + 1;
            if (bytes > MaxStringBytes)
            {
                return new Shared(total, Invariant($"its environment variable {name} takes {bytes:N0} bytes; Linux starts a program with at most {MaxStringBytes:N0} bytes (128 KiB) in one variable"));
            }

            total += bytes + IntPtr.Size;
        }

        return new Shared(total, null);
    }

    /// <summary>The measure of the variables every job of a batch shares.</summary>
    public readonly record struct Shared(long Bytes, string? Problem);
}
