using System.Management.Automation;

namespace Goq.Cmdlets;

/// <summary>On Remove-Module: close every cached connection (sockets first, as NetMQ requires).</summary>
public sealed class ModuleCleanup : IModuleAssemblyCleanup
{
    public void OnRemove(PSModuleInfo psModuleInfo) => ClientCache.Clear();
}
