using System.Collections;
using System.Management.Automation;
using Goq.Output;
using Goq.Worker;

namespace Goq.Runner;

/// <summary>
/// Runs one script-block job in a runspace no other job has left anything in (<see cref="RunspaceSource"/>): the job's environment and working directory, its arguments bound
/// to param(), its input as <c>$input</c> and <c>$_</c>, its <c>$using:</c> values as variables; every object and
/// stream record sent as it comes. A terminating error fails the job with its message; <c>exit N</c> ends it with N.
/// </summary>
internal static class JobExecution
{
    private const int TextWidth = 120;

    /// <summary>Runs the job and tells <paramref name="report"/> how it ended, before its runspace is checked and reset.</summary>
    public static void Run(RunnerJob job, RunspaceSource runspaces, Action<OutputStream, string> send, Action<RunnerEnd> report)
    {
        var sink = new RecordSink(send, job.SerializationDepth, job.MaxRecordBytes);
        try
        {
            SetEnvironment(job.Environment);
            Environment.CurrentDirectory = job.WorkingDirectory;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            report(Failed(sink, $"cannot enter the working directory '{job.WorkingDirectory}': {ex.Message}"));
            return;
        }

        var (parseError, script) = ParsedScripts.Get(job.Script);
        if (parseError is not null)
        {
            report(Failed(sink, $"the script block does not parse: {parseError}"));
            return;
        }

        if (Data(job.ScriptData) is not { } data)
        {
            // Checkpoint: never run without what was given (Submit-GoqJob refuses what cannot be read; an older client may not).
            report(Failed(sink, "the job's arguments, input or $using: values cannot be read (nested too deeply?); it was not run without them"));
            return;
        }

        var lease = runspaces.Take();
        var completed = false;
        try
        {
            var end = Run(job, script, data, lease, sink);
            completed = end.State == JobState.Completed;
            // The end goes out first: checking and resetting the runspace (a few milliseconds) is not the job's time.
            report(end);
        }
        finally
        {
            runspaces.Return(lease, completed);
        }
    }

    private static RunnerEnd Run(RunnerJob job, string script, ScriptData data, RunspaceSource.Lease lease, RecordSink sink)
    {
        var (runspace, host) = (lease.Runspace, lease.Host);
        var state = runspace.SessionStateProxy;
        EnterLocation(state, job.WorkingDirectory);

        foreach (DictionaryEntry entry in data.Using)
        {
            state.SetVariable(UsingVariables.Prefix + entry.Key, entry.Value);
        }

        if (job.Environment.TryGetValue("GOQ_ARRAY_ID", out var arrayId) && int.TryParse(arrayId, System.Globalization.CultureInfo.InvariantCulture, out var index))
        {
            state.SetVariable("GoqArrayId", index); // an array task's index, as in $env:GOQ_ARRAY_ID
        }

        if (data.HasInput)
        {
            state.SetVariable("_", data.Input);
        }

        using var shell = PowerShell.Create();
        shell.Runspace = runspace;
        // In a scope of its own, as a script block runs: what it defines goes with the scope, not into the global one.
        shell.AddCommand("Invoke-Command").AddParameter("ScriptBlock", ScriptBlock.Create(script));
        if (data.Arguments.Length > 0)
        {
            shell.AddParameter("ArgumentList", data.Arguments);
        }

        shell.AddCommand("Write-GoqRunnerRecord").AddParameter("Sink", sink);
        shell.AddCommand("Out-String").AddParameter("Stream").AddParameter("Width", TextWidth);
        Watch(shell, sink);
        var output = new PSDataCollection<PSObject>();
        output.DataAdded += (_, e) => sink.Text(OutputStream.Stdout, output[e.Index]?.ToString() ?? "");
        try
        {
            var input = new PSDataCollection<object?>(data.HasInput ? [data.Input] : []);
            input.Complete();
            shell.Invoke(input, output);
        }
        catch (OutputLimitException ex)
        {
            return Failed(sink, ex.Message, recordIt: false);
        }
        catch (RuntimeException ex) when (sink.OverLimit)
        {
            _ = ex;
            return Failed(sink, sink.LimitReason, recordIt: false);
        }
        catch (RuntimeException ex)
        {
            // A terminating error: written to the job's error stream, as Receive-Job shows it, and its reason.
            var record = ex.ErrorRecord;
            sink.Record(RecordLines.Error, record);
            sink.Text(OutputStream.Stderr, record.ToString());
            return new RunnerEnd(JobState.Failed, host.ExitCode is { } code and not 0 ? code : 1, ex.Message);
        }

        if (sink.OverLimit)
        {
            return Failed(sink, sink.LimitReason, recordIt: false);
        }

        return host.ExitCode is { } exit and not 0
            ? new RunnerEnd(JobState.Failed, exit, $"exit code {exit}")
            : new RunnerEnd(JobState.Completed, 0, null);
    }

    /// <summary>
    /// Makes the job's directory the runspace's location. SetLocation lists every ancestor folder to correct the casing of
    /// the path (milliseconds under a folder as full as /tmp); the process has just entered the folder, so it exists,
    /// and on Unix the root drive's current location (what SetLocation ends up setting) and $PWD are set instead.
    /// </summary>
    private static void EnterLocation(System.Management.Automation.Runspaces.SessionStateProxy state, string directory)
    {
        if (!OperatingSystem.IsWindows() && directory.StartsWith('/') && state.Drive.Current is { Root: "/" } drive
            && drive.Provider.Name == "FileSystem")
        {
            drive.CurrentLocation = directory.Trim('/');
            if (string.Equals(state.Path.CurrentFileSystemLocation.ProviderPath, directory.Length > 1 ? directory.TrimEnd('/') : directory, StringComparison.Ordinal))
            {
                state.PSVariable.Set("PWD", state.Path.CurrentLocation);
                return;
            }
        }

        state.Path.SetLocation(WildcardPattern.Escape(directory));
    }

    private static void Watch(PowerShell shell, RecordSink sink)
    {
        var streams = shell.Streams;
        void Stop()
        {
            if (sink.OverLimit)
            {
                shell.BeginStop(null, null);
            }
        }

        streams.Error.DataAdded += (_, e) =>
        {
            var record = streams.Error[e.Index];
            sink.Record(RecordLines.Error, record);
            sink.Text(OutputStream.Stderr, record.ToString());
            Stop();
        };

        void Informational<T>(PSDataCollection<T> collection, char kind, string prefix)
            where T : InformationalRecord
        {
            collection.DataAdded += (_, e) =>
            {
                var record = collection[e.Index];
                sink.Record(kind, record);
                sink.Text(OutputStream.Stdout, prefix + record.Message);
                Stop();
            };
        }

        Informational(streams.Warning, RecordLines.Warning, "WARNING: ");
        Informational(streams.Verbose, RecordLines.Verbose, "VERBOSE: ");
        Informational(streams.Debug, RecordLines.Debug, "DEBUG: ");

        streams.Information.DataAdded += (_, e) =>
        {
            var record = streams.Information[e.Index];
            sink.Record(RecordLines.Information, record);
            sink.Text(OutputStream.Stdout, record.MessageData?.ToString() ?? "");
            Stop();
        };
    }

    private static RunnerEnd Failed(RecordSink sink, string reason, bool recordIt = true)
    {
        if (recordIt)
        {
            var record = new ErrorRecord(new InvalidOperationException(reason), Goq.Errors.GoqErrorIds.ScriptJobFailed, ErrorCategory.InvalidOperation, null);
            sink.Record(RecordLines.Error, record);
        }

        sink.Text(OutputStream.Stderr, "goq: " + reason);
        return new RunnerEnd(JobState.Failed, 1, reason);
    }

    /// <summary>Replaces this process's environment with the job's (a runner runs one job at a time).</summary>
    private static void SetEnvironment(IReadOnlyDictionary<string, string> environment)
    {
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var name = (string)entry.Key;
            if (!environment.ContainsKey(name))
            {
                Environment.SetEnvironmentVariable(name, null);
            }
        }

        foreach (var (name, value) in environment)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }

    /// <summary>The job's arguments, input and $using: values; null when they cannot be read.</summary>
    private static ScriptData? Data(string? xml)
    {
        if (string.IsNullOrEmpty(xml))
        {
            return new ScriptData([], false, null, new Hashtable());
        }

        try
        {
            var table = PSSerializer.Deserialize(xml) is PSObject { BaseObject: Hashtable t } ? t : xml is null ? new Hashtable() : throw new InvalidDataException("not a table");
            var arguments = table["a"] is { } a ? (PSObject.AsPSObject(a).BaseObject is ArrayList list ? list.Cast<object?>().ToArray() : [a]) : [];
            var usings = table["u"] is PSObject { BaseObject: Hashtable u } ? u : table["u"] as Hashtable ?? new Hashtable();
            return new ScriptData(arguments, table.ContainsKey("i"), table["i"], usings);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return null;
        }
    }

    private sealed record ScriptData(object?[] Arguments, bool HasInput, object? Input, Hashtable Using);
}
