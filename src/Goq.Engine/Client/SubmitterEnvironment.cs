using System.Collections;
using Goq.Errors;

namespace Goq.Client;

/// <summary>
/// The environment a submitter's jobs carry: this process's variables, captured once (for a whole pipeline), and the
/// variables the caller sets for its jobs. Neither ever holds one of Goq's own settings (GOQ_*) or anything that holds
/// the cluster secret. <see cref="GoqClient.SubmitAsync"/> captures it for jobs that carry none and filters whatever
/// jobs carry, so every caller of the client API gets the same, not only the cmdlet.
/// </summary>
public sealed class SubmitterEnvironment
{
    private SubmitterEnvironment(IReadOnlyDictionary<string, string> captured, IReadOnlyDictionary<string, string>? explicitVariables)
    {
        Captured = captured;
        Explicit = explicitVariables;
    }

    /// <summary>This process's variables as they travel (the worker keeps its own PATH, HOME and the like).</summary>
    public IReadOnlyDictionary<string, string> Captured { get; }

    /// <summary>The variables the caller set; they win over the submitter's and the worker's. Null when none.</summary>
    public IReadOnlyDictionary<string, string>? Explicit { get; }

    /// <summary>
    /// Captures this process's environment and checks the caller's variables: a name or value no process environment
    /// can carry is refused (<see cref="GoqErrorIds.InvalidEnvironment"/>); one of Goq's settings, or one that holds the
    /// secret, is left out and named to <paramref name="onWithheld"/>.
    /// </summary>
    public static SubmitterEnvironment Capture(string secretText, IEnumerable<KeyValuePair<string, string?>>? explicitVariables = null,
        Action<string>? onWithheld = null)
    {
        var process = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .Select(e => new KeyValuePair<string, string>((string)e.Key, e.Value as string ?? ""));
        Dictionary<string, string>? kept = null;
        if (explicitVariables is not null)
        {
            var given = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, value) in explicitVariables)
            {
                if (JobEnvironment.Problem(name, value) is { } problem)
                {
                    throw new GoqException(GoqErrorIds.InvalidEnvironment, GoqErrorKind.InvalidArgument, problem) { Target = name };
                }

                given[name] = value ?? "";
            }

            kept = JobEnvironment.Capture(given, [secretText]);
            foreach (var name in given.Keys.Where(k => !kept.ContainsKey(k)))
            {
                onWithheld?.Invoke(name);
            }
        }

        return new SubmitterEnvironment(JobEnvironment.Capture(process, [secretText]), kept);
    }

    /// <summary>The job with this environment; every job given the same object shares one captured dictionary (sent once per batch).</summary>
    public JobSpec ApplyTo(JobSpec spec) => spec with { CapturedEnvironment = Captured, Environment = Explicit };

    /// <summary>
    /// Checkpoint (secrets): the jobs as they may leave this process. A job with no captured environment gets this
    /// process's (captured once for the batch); every environment a job carries loses Goq's settings and whatever holds
    /// the secret. Dictionaries shared between jobs stay shared.
    /// </summary>
    internal static IReadOnlyList<JobSpec> Prepare(IReadOnlyList<JobSpec> jobs, string secretText)
    {
        SubmitterEnvironment? own = null;
        var filtered = new Dictionary<IReadOnlyDictionary<string, string>, IReadOnlyDictionary<string, string>>(ReferenceEqualityComparer.Instance);
        IReadOnlyDictionary<string, string>? Filter(IReadOnlyDictionary<string, string>? environment)
        {
            if (environment is null)
            {
                return null;
            }

            if (!filtered.TryGetValue(environment, out var clean))
            {
                var kept = JobEnvironment.Capture(environment, [secretText]);
                clean = kept.Count == environment.Count ? environment : kept; // nothing withheld: the same object, still shared
                filtered[environment] = clean;
            }

            return clean;
        }

        var prepared = new JobSpec[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            var captured = Filter(job.CapturedEnvironment ?? (own ??= Capture(secretText)).Captured);
            var explicitVariables = Filter(job.Environment);
            prepared[i] = ReferenceEquals(captured, job.CapturedEnvironment) && ReferenceEquals(explicitVariables, job.Environment)
                ? job
                : job with { CapturedEnvironment = captured, Environment = explicitVariables };
        }

        return prepared;
    }
}
