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
}
