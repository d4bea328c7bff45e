using System.Runtime.CompilerServices;
using Goq.Server.Scheduling;

namespace Goq.SystemTests.Support;

/// <summary>What holds for every test in this assembly, set before the first one runs.</summary>
internal static class TestSetup
{
    /// <summary>
    /// An illegal change of a job's state throws (a defect found), in the servers this process hosts and, through the
    /// environment, in those it starts.
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize()
    {
        AppContext.SetSwitch(JobTable.StrictSwitch, true);
        Environment.SetEnvironmentVariable("GOQ_STRICT_TRANSITIONS", "1");
    }
}
