namespace Goq.Protocol;

/// <summary>Halving and joining of the lists inside an <see cref="IListReply"/>.</summary>
internal static class ListHalves
{
    public static (IReadOnlyList<T> First, IReadOnlyList<T> Second) Halve<T>(IReadOnlyList<T> list)
    {
        var middle = list.Count / 2;
        return (list.Take(middle).ToList(), list.Skip(middle).ToList());
    }

    public static IReadOnlyList<T> Join<T>(IReadOnlyList<T> a, IReadOnlyList<T> b) => [.. a, .. b];
}
