using Goq.Errors;
using Goq.Hosting;

namespace Goq.Tests.Hosting;

/// <summary>The line a role that cannot start writes last, which its launcher reads back as the error to report.</summary>
public sealed class FatalLineTests
{
    [Fact]
    public void A_fatal_line_round_trips_the_error_id_kind_and_message()
    {
        var line = FatalLine.Format(new GoqException(GoqErrorIds.PortInUse, GoqErrorKind.ResourceUnavailable, "port 1776 is taken\nby pid 7"));

        var parsed = FatalLine.TryParse(line, GoqErrorIds.ServerStartFailed)!;

        Assert.Equal(GoqErrorIds.PortInUse, parsed.ErrorId);
        Assert.Equal(GoqErrorKind.ResourceUnavailable, parsed.Kind);
        Assert.Equal("port 1776 is taken by pid 7", parsed.Message);
    }

    [Fact]
    public void An_error_that_is_not_goqs_takes_the_launchers_id_and_other_lines_are_not_fatal()
    {
        var parsed = FatalLine.TryParse(FatalLine.Format(new IOException("disk full")), GoqErrorIds.WorkerStartFailed)!;

        Assert.Equal(GoqErrorIds.WorkerStartFailed, parsed.ErrorId);
        Assert.Equal("disk full", parsed.Message);
        Assert.Null(FatalLine.TryParse("an ordinary log line", GoqErrorIds.WorkerStartFailed));
    }
}
