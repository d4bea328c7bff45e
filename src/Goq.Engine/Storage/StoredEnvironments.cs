using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Goq.Protocol;

namespace Goq.Storage;

/// <summary>
/// Submitters' environments, stored once per distinct content: each is keyed by the SHA-256 of its JSON, the key
/// remembered per dictionary (a batch's jobs share one), and the environments read back are shared by every job that
/// names them. A store's own (see <see cref="StagedJobStore"/>); one thread.
/// </summary>
internal sealed class StoredEnvironments(Func<string, string?> read)
{
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _known = new();
    private readonly ConditionalWeakTable<IReadOnlyDictionary<string, string>, string> _keys = new();
    private readonly Dictionary<string, string> _unstored = new();

    /// <summary>The key of an environment (null for none), remembering it to be stored if it is new.</summary>
    public string? Key(IReadOnlyDictionary<string, string>? environment)
    {
        if (environment is null)
        {
            return null;
        }

        if (_keys.TryGetValue(environment, out var known))
        {
            return known;
        }

        var json = JsonSerializer.Serialize(environment.ToDictionary(), GoqJsonContext.Default.DictionaryStringString);
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
        _keys.AddOrUpdate(environment, key);
        if (!_known.ContainsKey(key))
        {
            _known[key] = environment;
            _unstored[key] = json;
        }

        return key;
    }

    /// <summary>The JSON of an environment not stored yet, or null once it is.</summary>
    public string? Unstored(string key) => _unstored.GetValueOrDefault(key);

    /// <summary>These environments are stored now.</summary>
    public void Stored(IEnumerable<string> keys)
    {
        foreach (var key in keys)
        {
            _unstored.Remove(key);
        }
    }

    /// <summary>An environment by its key, read once from the store and then shared; null when the store has none.</summary>
    public IReadOnlyDictionary<string, string>? Get(string key)
    {
        if (_known.TryGetValue(key, out var cached))
        {
            return cached;
        }

        if (read(key) is not { } json)
        {
            return null;
        }

        var environment = JsonSerializer.Deserialize(json, GoqJsonContext.Default.DictionaryStringString)!;
        _known[key] = environment;
        return environment;
    }
}
