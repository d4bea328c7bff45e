using System.Management.Automation;

namespace Goq.Runner;

/// <summary>Ends a job whose output passed its limit; the job fails with this message as its reason.</summary>
public sealed class OutputLimitException(string message) : RuntimeException(message);
