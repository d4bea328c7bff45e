namespace Goq.Protocol;

/// <summary>
/// A reply made of lists, which can travel in several messages when it is too large for one: the sender halves it
/// until each part fits (<see cref="Split"/>), the receiver joins the parts in order (<see cref="Join"/>). So no number
/// of jobs or workers can make a reply that the socket refuses.
/// </summary>
public interface IListReply
{
    /// <summary>How many list items this part holds; a part of one item cannot be split further.</summary>
    int ItemCount { get; }

    /// <summary>Two parts that together hold every item of this one, in order.</summary>
    (GoqMessage First, GoqMessage Second) Split();

    /// <summary>This part followed by <paramref name="next"/>, of the same kind.</summary>
    GoqMessage Join(GoqMessage next);
}
