namespace Goq;

/// <summary>Which standard stream of a job a line came from, or that it is a serialized record.</summary>
public enum OutputStream
{
    Stdout = 1,
    Stderr = 2,

    /// <summary>
    /// A serialized record of a script-block job (an output object, or an error, warning, verbose, debug or information
    /// record), kept in the job's records file beside its text. The engine never reads these; see RecordLine.
    /// </summary>
    Record = 3,
}
