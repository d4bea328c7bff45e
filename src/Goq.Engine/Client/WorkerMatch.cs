namespace Goq.Client;

/// <summary>
/// Which connected workers a name given by a user means: a whole worker id, a unique prefix of one, or the
/// <c>host/prefix</c> form the job table shows (host case-insensitive).
/// </summary>
public static class WorkerMatch
{
    public static IReadOnlyList<WorkerInfo> Find(IEnumerable<WorkerInfo> workers, string name)
    {
        var all = workers.ToList();
        var slash = name.LastIndexOf('/');
        var host = slash > 0 ? name[..slash] : null;
        var id = slash >= 0 ? name[(slash + 1)..] : name;
        var candidates = host is null ? all : all.Where(w => string.Equals(w.Host, host, StringComparison.OrdinalIgnoreCase)).ToList();
        var exact = candidates.Where(w => string.Equals(w.Id, id, StringComparison.OrdinalIgnoreCase)).ToList();
        return exact.Count > 0 || id.Length == 0
            ? exact
            : candidates.Where(w => w.Id.StartsWith(id, StringComparison.OrdinalIgnoreCase)).ToList();
    }
}
