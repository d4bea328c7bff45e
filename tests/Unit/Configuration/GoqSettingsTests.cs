using Goq.Configuration;

namespace Goq.Tests.Configuration;

public sealed class GoqSettingsTests
{
    [Fact]
    public void EnvironmentWinsOverConfig_AndTheParameterWinsOverBoth()
    {
        var config = new GoqConfig { Port = 2000, HeartbeatSec = 7, ServerHost = "10.1.1.1", OutputDir = "out" };
        Environment.SetEnvironmentVariable("GOQ_JSERV_PORT", "3000");
        Environment.SetEnvironmentVariable("GOQ_ODIR", "testo");
        try
        {
            var fromEnv = GoqSettings.FromConfig("/h", config);
            Assert.Equal(3000, fromEnv.Port);
            Assert.Equal("testo", fromEnv.OutputDir);
            Assert.Equal(7, fromEnv.HeartbeatSec);
            Assert.Equal(21, fromEnv.DeadWorkerSec); // three heartbeats
            Assert.Equal("tcp://10.1.1.1:3000", fromEnv.Endpoint);
            Assert.Equal("tcp://10.1.1.1:3000", fromEnv.BindEndpoint);
            Assert.Equal(4000, GoqSettings.FromConfig("/h", config, port: 4000).Port);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GOQ_JSERV_PORT", null);
            Environment.SetEnvironmentVariable("GOQ_ODIR", null);
        }

        Assert.Equal(2000, GoqSettings.FromConfig("/h", config).Port);
    }

    [Fact]
    public void HostNames_BindEveryInterface_AndTheDeadWorkerTimeIsConfigurable()
    {
        var settings = GoqSettings.FromConfig("/h", new GoqConfig { ServerHost = "node1", DeadWorkerSec = 40 });
        Assert.Equal("tcp://*:1776", settings.BindEndpoint);
        Assert.Equal("tcp://node1:1776", settings.Endpoint);
        Assert.Equal(40, settings.DeadWorkerSec);
    }

    [Fact]
    public void RunnerRecyclingAndHowFarAheadJobsGo_ComeFromTheEnvironment_ThenTheConfig_ThenTheDefaults()
    {
        var defaults = GoqSettings.FromConfig("/h", new GoqConfig());
        Assert.Equal((GoqDefaults.RunnerMaxJobs, GoqDefaults.RunnerMaxMemoryMiB * 1024L * 1024, GoqDefaults.PrefetchHorizonMs),
            (defaults.RunnerMaxJobs, defaults.RunnerMaxBytes, defaults.PrefetchHorizonMs));

        var config = new GoqConfig { RunnerMaxJobs = 50, RunnerMaxMemoryMiB = 300, PrefetchHorizonMs = 40 };
        var fromConfig = GoqSettings.FromConfig("/h", config);
        Assert.Equal((50, 300L * 1024 * 1024, 40), (fromConfig.RunnerMaxJobs, fromConfig.RunnerMaxBytes, fromConfig.PrefetchHorizonMs));

        Environment.SetEnvironmentVariable("GOQ_RUNNER_MAX_JOBS", "2");
        Environment.SetEnvironmentVariable("GOQ_RUNNER_MAX_MEMORY_MIB", "1");
        Environment.SetEnvironmentVariable("GOQ_PREFETCH_HORIZON_MS", "0");
        try
        {
            var fromEnv = GoqSettings.FromConfig("/h", config);
            Assert.Equal((2, 1024L * 1024, 0), (fromEnv.RunnerMaxJobs, fromEnv.RunnerMaxBytes, fromEnv.PrefetchHorizonMs));
        }
        finally
        {
            Environment.SetEnvironmentVariable("GOQ_RUNNER_MAX_JOBS", null);
            Environment.SetEnvironmentVariable("GOQ_RUNNER_MAX_MEMORY_MIB", null);
            Environment.SetEnvironmentVariable("GOQ_PREFETCH_HORIZON_MS", null);
        }
    }
}
