using System.Reflection;
using System.Runtime.InteropServices;

namespace Goq.Storage;

/// <summary>
/// Makes SQLite's native library loadable inside pwsh, which does not read a module's deps.json: the library is
/// looked up under the engine's own <c>runtimes/&lt;rid&gt;/native</c> folder. Harmless where deps.json works (tests).
/// </summary>
internal static class SqliteNativeLibrary
{
    private static int _registered;

    public static void EnsureResolvable()
    {
        if (Interlocked.Exchange(ref _registered, 1) != 0)
        {
            return;
        }

        try
        {
            NativeLibrary.SetDllImportResolver(typeof(SQLitePCL.SQLite3Provider_e_sqlite3).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // Someone registered a resolver for that assembly already; theirs wins.
        }
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!name.Contains("e_sqlite3", StringComparison.Ordinal))
        {
            return 0;
        }

        var baseDir = Path.GetDirectoryName(typeof(SqliteNativeLibrary).Assembly.Location) ?? AppContext.BaseDirectory;
        var file = OperatingSystem.IsWindows() ? "e_sqlite3.dll" : OperatingSystem.IsMacOS() ? "libe_sqlite3.dylib" : "libe_sqlite3.so";
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        foreach (var rid in new[] { RuntimeInformation.RuntimeIdentifier, $"{os}-{arch}", $"{os}-musl-{arch}" })
        {
            var candidate = Path.Combine(baseDir, "runtimes", rid, "native", file);
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle))
            {
                return handle;
            }
        }

        return 0; // fall back to the default probing
    }
}
