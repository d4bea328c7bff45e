using System.Management.Automation;
using Goq.Protocol;

namespace Goq.Cmdlets;

/// <summary>
/// What one input record of Submit-GoqJob becomes, for the command-line, program and file jobs (script blocks map
/// their input themselves). With no command given, each record is the job: a string is a command line (a program
/// with -ArgumentList), a file is a script to run. With a command given (-Command or -LiteralPath), each record is
/// the command's last argument, passed exactly, as xargs and GNU parallel do: a file gives its full path, anything
/// else its text. A .ps1 file becomes a script-block job (<see cref="ScriptFiles"/>); other files run on the worker.
/// </summary>
internal sealed class SubmitInput(
    object?[]? argumentList,
    ScriptFiles scripts,
    Func<string, string> fullPath,
    Action<string> warn)
{
    /// <summary>A job to submit (with what -WhatIf names it by), or the error that stops this record alone.</summary>
    internal sealed record Item(JobSpec? Spec, string Target, ErrorRecord? Error);

    /// <summary>
    /// The jobs for the command given (a command line, a program, or script files), with <paramref name="input"/> as
    /// its last argument when there is input.
    /// </summary>
    public IEnumerable<Item> ForCommand(string? command, string[] literalPaths, bool hasInput, object? input)
    {
        string? last = null;
        if (hasInput && ArgumentOf(input) is var (text, error))
        {
            if (error is not null)
            {
                yield return new Item(null, "", error);
                yield break;
            }

            last = text;
        }

        var paths = command is not null && CommandLineAttribute.FileOf(command) is { } file ? [file] : literalPaths;
        if (command is not null && paths.Length == 0)
        {
            // A program with exact arguments when there are any (the input is one); else a command line for the shell.
            var exact = argumentList is not null || last is not null;
            var arguments = exact ? Texts(argumentList).Concat(last is null ? [] : [last]).ToArray() : [];
            yield return new Item(new JobSpec { Kind = exact ? JobKind.Exec : JobKind.Shell, Command = command, ArgumentList = arguments }, command, null);
            yield break;
        }

        foreach (var path in paths)
        {
            yield return ScriptJob(path, last);
        }
    }

    /// <summary>The job a record is when no command was given: a command line, a program, or a script file.</summary>
    public Item ForRecord(object? input)
    {
        var value = input is PSObject wrapped ? wrapped.BaseObject : input;
        if (value is string line)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                return new Item(null, "", ErrorRecordFactory.Create(Errors.GoqErrorIds.InvalidJobSpec, Errors.GoqErrorKind.InvalidArgument,
                    "an empty command line was piped; it was not submitted", line));
            }

            return argumentList is null
                ? new Item(new JobSpec { Kind = JobKind.Shell, Command = line }, line, null)
                : new Item(new JobSpec { Kind = JobKind.Exec, Command = line, ArgumentList = Texts(argumentList) }, line, null);
        }

        if (PathOf(input) is { } path)
        {
            return ScriptJob(path, null);
        }

        return new Item(null, "", ErrorRecordFactory.Create(Errors.GoqErrorIds.InvalidJobSpec, Errors.GoqErrorKind.InvalidArgument,
            $"a {TypeOf(input)} is not a command line: give Submit-GoqJob text, files (-LiteralPath) or a script block (-ScriptBlock)", input));
    }

    private Item ScriptJob(string path, string? last)
    {
        var full = fullPath(path);
        if (!File.Exists(full))
        {
            return new Item(null, full, ErrorRecordFactory.Create(Errors.GoqErrorIds.ScriptNotFound, Errors.GoqErrorKind.NotFound, $"no script file at '{full}'", full));
        }

        if (!ScriptFiles.IsPowerShell(full))
        {
            var arguments = Texts(argumentList).Concat(last is null ? [] : [last]).ToArray();
            return new Item(new JobSpec { Kind = JobKind.Script, Command = full, ArgumentList = arguments }, full, null);
        }

        var script = scripts.Get(full);
        if (script.Error is not null)
        {
            return new Item(null, full, script.Error);
        }

        object?[] values = [.. argumentList ?? [], .. last is null ? Array.Empty<object?>() : [last]];
        string data;
        try
        {
            data = script.Data!.Serialize(values, false, null, warn);
        }
        catch (Errors.GoqException ex) when (ex.ErrorId == Errors.GoqErrorIds.ArgumentNotSerializable)
        {
            return new Item(null, full, ErrorRecordFactory.From(ex, full));
        }

        return new Item(new JobSpec
        {
            Kind = JobKind.ScriptBlock,
            Command = script.Text,
            ScriptData = data,
            Name = Path.GetFileName(full),
        }, full, null);
    }

    // A record as one exact argument: a file's full path, a string as it is, a number or other simple value as its
    // invariant text. Objects are refused: their string form is seldom what a program wants.
    private static (string? Text, ErrorRecord? Error) ArgumentOf(object? input)
    {
        var value = input is PSObject wrapped ? wrapped.BaseObject : input;
        return value switch
        {
            string text => (text, null),
            FileSystemInfo file => (file.FullName, null),
            null => ("", null),
            _ when value.GetType().IsPrimitive || value is decimal or DateTime or DateTimeOffset or Guid or Enum =>
                (LanguagePrimitives.ConvertTo<string>(value), null),
            _ => (null, ErrorRecordFactory.Create(Errors.GoqErrorIds.InvalidJobSpec, Errors.GoqErrorKind.InvalidArgument,
                $"a {TypeOf(input)} is not an argument: pipe strings or files to run a command on each", input)),
        };
    }

    // A file from Get-ChildItem, or anything with the FullName or PSPath a file has (as -LiteralPath binds them).
    private static string? PathOf(object? input)
    {
        if ((input is PSObject wrapped ? wrapped.BaseObject : input) is FileInfo file)
        {
            return file.FullName;
        }

        var bag = input is null ? null : PSObject.AsPSObject(input);
        return (bag?.Properties["FullName"]?.Value ?? bag?.Properties["PSPath"]?.Value) is string path && path.Length > 0 ? path : null;
    }

    private static string TypeOf(object? input) =>
        (input as PSObject)?.TypeNames.FirstOrDefault() ?? input?.GetType().FullName ?? "null";

    private static string[] Texts(object?[]? values) =>
        (values ?? []).Select(a => a is null ? "" : LanguagePrimitives.ConvertTo<string>(a)).ToArray();
}
