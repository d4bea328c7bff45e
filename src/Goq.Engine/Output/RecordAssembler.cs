namespace Goq.Output;

/// <summary>Joins the pieces of records read line by line (see <see cref="RecordLines"/>) back into whole records, in order.</summary>
public sealed class RecordAssembler
{
    private readonly System.Text.StringBuilder _pending = new();
    private char _kind;

    /// <summary>Malformed lines seen (skipped).</summary>
    public int Malformed { get; private set; }

    /// <summary>Takes the next line; returns the record it completes, else null.</summary>
    public (char Kind, string Xml)? Add(string line)
    {
        if (RecordLines.Decode(line) is not { } decoded || (_pending.Length > 0 && decoded.Kind != _kind))
        {
            Malformed++;
            _pending.Clear();
            return null;
        }

        _kind = decoded.Kind;
        if (decoded.More)
        {
            _pending.Append(decoded.Piece);
            return null;
        }

        if (_pending.Length == 0)
        {
            return (decoded.Kind, decoded.Piece);
        }

        var xml = _pending.Append(decoded.Piece).ToString();
        _pending.Clear();
        return (decoded.Kind, xml);
    }
}
