namespace Goq.Protocol;

/// <summary>Halving and joining of the lists inside an <see cref="IListReply"/>.</summary>
internal static class ListHalves
{
    public static (IReadOnlyList<T> First, IReadOnlyList<T> Second) Halve<T>(IReadOnlyList<T> list)
    {
        var middle = list.Count / 2;
        return (list.Take(middle).ToList(), list.Skip(middle).ToList());
    }

    /// <summary>A reply of one list, halved: <paramref name="make"/> builds a reply of the same kind around each half.</summary>
    public static (GoqMessage, GoqMessage) Split<T>(IReadOnlyList<T> list, Func<IReadOnlyList<T>, GoqMessage> make)
    {
        var (a, b) = Halve(list);
        return (make(a), make(b));
    }

    /// <summary>
    /// A reply of two lists, halved: the first list while it has more than one item (the second list going with the
    /// first part), else the second list.
    /// </summary>
    public static (GoqMessage, GoqMessage) Split<T, TU>(IReadOnlyList<T> first, IReadOnlyList<TU> second, Func<IReadOnlyList<T>, IReadOnlyList<TU>, GoqMessage> make)
    {
        if (first.Count > 1)
        {
            var (a, b) = Halve(first);
            return (make(a, second), make(b, []));
        }

        var (x, y) = Halve(second);
        return (make(first, x), make([], y));
    }

    public static IReadOnlyList<T> Join<T>(IReadOnlyList<T> a, IReadOnlyList<T> b) => [.. a, .. b];
}
