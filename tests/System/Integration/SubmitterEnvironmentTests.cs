using Goq.Client;
using Goq.Errors;
using Goq.SystemTests.Support;

namespace Goq.SystemTests.Integration;

/// <summary>
/// The environment a submit carries is the engine's business: any caller of the client API gets the submitter's
/// variables captured and Goq's settings and the cluster secret kept out, not only Submit-GoqJob.
/// </summary>
public sealed class SubmitterEnvironmentTests
{
    private const string Secret = "0123456789abcdef0123456789abcdef";

    [Fact]
    public void Capture_takes_this_process_but_not_goq_settings()
    {
        var env = SubmitterEnvironment.Capture(Secret);

        Assert.Equal(Environment.GetEnvironmentVariable("PATH"), env.Captured["PATH"]);
        Assert.DoesNotContain(env.Captured.Keys, k => k.StartsWith("GOQ_", StringComparison.OrdinalIgnoreCase));
        Assert.Null(env.Explicit);
    }

    [Fact]
    public void Capture_withholds_explicit_variables_that_hold_the_secret_or_are_goq_settings_and_names_them()
    {
        var withheld = new List<string>();
        var env = SubmitterEnvironment.Capture(Secret,
            [new("KEEP", "1"), new("LEAK", "x" + Secret.ToUpperInvariant()), new("GOQ_HOME", "/tmp"), new("EMPTY", null)], withheld.Add);

        Assert.Equal(new Dictionary<string, string> { ["KEEP"] = "1", ["EMPTY"] = "" }, env.Explicit);
        Assert.Equal(["LEAK", "GOQ_HOME"], withheld);
    }

    [Theory]
    [InlineData("A=B", "x")]
    [InlineData("", "x")]
    [InlineData("NUL", "a\0b")]
    public void Capture_refuses_what_no_process_environment_can_carry(string name, string value)
    {
        var ex = Assert.Throws<GoqException>(() => SubmitterEnvironment.Capture(Secret, [new(name, value)]));
        Assert.Equal(GoqErrorIds.InvalidEnvironment, ex.ErrorId);
        Assert.Equal(GoqErrorKind.InvalidArgument, ex.Kind);
    }

    [Fact]
    public void Prepare_gives_a_job_without_one_this_process_environment_and_keeps_shared_ones_shared()
    {
        var shared = new Dictionary<string, string> { ["A"] = "1" };
        var leaky = new Dictionary<string, string> { ["A"] = "1", ["GOQ_JSERV_PORT"] = "9", ["B"] = Secret };
        JobSpec[] jobs =
        [
            new() { Command = "a", CapturedEnvironment = shared },
            new() { Command = "b", CapturedEnvironment = shared },
            new() { Command = "c" },
            new() { Command = "d", CapturedEnvironment = leaky, Environment = leaky },
        ];

        var prepared = SubmitterEnvironment.Prepare(jobs, Secret);

        Assert.Same(jobs[0], prepared[0]); // nothing to change: not even copied
        Assert.Same(prepared[0].CapturedEnvironment, prepared[1].CapturedEnvironment);
        Assert.Equal(Environment.GetEnvironmentVariable("PATH"), prepared[2].CapturedEnvironment!["PATH"]);
        Assert.Equal(new Dictionary<string, string> { ["A"] = "1" }, prepared[3].CapturedEnvironment);
        Assert.Equal(new Dictionary<string, string> { ["A"] = "1" }, prepared[3].Environment);
    }

    [Fact]
    public async Task The_client_sends_its_process_environment_with_a_job_that_has_none_and_never_the_secret()
    {
        using var cluster = new Cluster();
        var secret = cluster.Credentials.SecretText;

        var job = (await cluster.Client.SubmitAsync([new JobSpec
        {
            Command = "true",
            Environment = new Dictionary<string, string> { ["LEAK"] = secret, ["MARK"] = "set" },
        }]))[0];

        var stored = cluster.Store.GetSpec(job.Id)!;
        Assert.Equal(Environment.GetEnvironmentVariable("PATH"), stored.CapturedEnvironment!["PATH"]);
        Assert.Equal(new Dictionary<string, string> { ["MARK"] = "set" }, stored.Environment);
    }

    [Fact]
    public async Task A_job_submitted_through_the_client_never_sees_the_secret_even_when_the_caller_puts_it_in()
    {
        using var cluster = new Cluster();
        cluster.AddWorker(slots: 1);
        var secret = cluster.Credentials.SecretText;

        var job = await cluster.RunAsync(new JobSpec
        {
            Kind = JobKind.Shell,
            Command = "echo \"leak=${LEAK:-none} mark=${MARK:-none}\"",
            WorkingDirectory = "",
            Environment = new Dictionary<string, string> { ["LEAK"] = secret, ["MARK"] = "set" },
        });

        Assert.Equal(JobState.Completed, job.State);
        var text = string.Join("\n", (await cluster.OutputAsync(job.Id)).Select(l => l.Text));
        Assert.Equal("leak=none mark=set", text);
        Assert.DoesNotContain(secret, text, StringComparison.OrdinalIgnoreCase);
    }
}
