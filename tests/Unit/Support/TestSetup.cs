using System.Runtime.CompilerServices;
using Goq.Server.Scheduling;

namespace Goq.Tests.Support;

/// <summary>What holds for every test in this assembly, set before the first one runs.</summary>
internal static class TestSetup
{
    /// <summary>An illegal change of a job's state throws in the tests (a defect found), instead of being refused and logged.</summary>
    [ModuleInitializer]
    internal static void Initialize() => AppContext.SetSwitch(JobTable.StrictSwitch, true);
}
