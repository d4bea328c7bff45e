using Goq.Identity;

namespace Goq.Tests.Identity;

public sealed class AccessPolicyTests
{
    private const string OwnOnly = "only its owner, an Operator or an Admin may";
    private const string OperatorUp = "only an Operator or an Admin may";
    private const string AdminOnly = "only an Admin may";

    /// <summary>
    /// The role table as the documentation states it, written out here on its own: a GoqAction this switch does not
    /// know fails every test of it until someone decides who may do it.
    /// </summary>
    private static (bool IsJobAction, GoqRole LeastForOthers) Classified(GoqAction action) => action switch
    {
        GoqAction.StopJob => (true, GoqRole.Operator),
        GoqAction.RemoveJob => (true, GoqRole.Operator),
        GoqAction.SetJob => (true, GoqRole.Operator),
        GoqAction.RestartJob => (true, GoqRole.Operator),
        GoqAction.ReadOutput => (true, GoqRole.Operator),
        GoqAction.StopWorkers => (false, GoqRole.Operator),
        GoqAction.SetQueue => (false, GoqRole.Admin),
        GoqAction.ManageUsers => (false, GoqRole.Admin),
        GoqAction.StopServer => (false, GoqRole.Admin),
        _ => throw new InvalidOperationException($"GoqAction.{action} is not in the test's role table: classify it (job action? least role?)"),
    };

    private static bool Expected(GoqRole role, GoqAction action, bool own)
    {
        var (isJob, least) = Classified(action);
        return role switch
        {
            GoqRole.Admin => true,
            GoqRole.Operator => least == GoqRole.Operator,
            GoqRole.User => isJob && own,
            _ => throw new InvalidOperationException($"GoqRole.{role} is not in the test's role table"),
        };
    }

    public static TheoryData<GoqAction> Actions()
    {
        var data = new TheoryData<GoqAction>();
        foreach (var action in Enum.GetValues<GoqAction>())
        {
            data.Add(action);
        }

        return data;
    }

    public static TheoryData<GoqAction, GoqRole> ActionsAndRoles()
    {
        var data = new TheoryData<GoqAction, GoqRole>();
        foreach (var action in Enum.GetValues<GoqAction>())
        {
            foreach (var role in Enum.GetValues<GoqRole>())
            {
                data.Add(action, role);
            }
        }

        return data;
    }

    [Fact]
    public void TheTable_KnowsNineActionsAndThreeRoles()
    {
        // Read alongside the switch above: a new value is a decision to make there.
        Assert.Equal(9, Enum.GetValues<GoqAction>().Length);
        Assert.Equal([GoqRole.User, GoqRole.Operator, GoqRole.Admin], Enum.GetValues<GoqRole>().Order());
        Assert.True(GoqRole.User < GoqRole.Operator && GoqRole.Operator < GoqRole.Admin);
    }

    [Theory]
    [MemberData(nameof(Actions))]
    public void EveryAction_IsClassified(GoqAction action)
    {
        var (isJob, least) = Classified(action);
        Assert.Equal(isJob, AccessPolicy.IsJobAction(action));
        Assert.Equal(least, AccessPolicy.LeastRoleFor(action));
        Assert.NotEqual(action.ToString(), AccessPolicy.Verb(action)); // a verb of its own, not the fallback
    }

    [Theory]
    [MemberData(nameof(ActionsAndRoles))]
    public void Allows_FollowsTheRoleTable_ForOwnAndOthersJobs(GoqAction action, GoqRole role)
    {
        var who = new Principal("alice", role);

        Assert.Equal(Expected(role, action, own: true), AccessPolicy.Allows(who, action, "alice"));
        Assert.Equal(Expected(role, action, own: false), AccessPolicy.Allows(who, action, "bob"));
        Assert.Equal(Expected(role, action, own: false), AccessPolicy.Allows(who, action));          // no owner: not theirs
        Assert.Equal(Expected(role, action, own: false), AccessPolicy.Allows(who, action, "Alice")); // names are exact
        Assert.Equal(Expected(role, action, own: false), AccessPolicy.Allows(who, action, ""));
    }

    [Theory]
    [MemberData(nameof(Actions))]
    public void TheClusterSecretsHolder_MayDoEverything(GoqAction action)
    {
        Assert.True(Principal.Cluster.IsCluster);
        Assert.Equal(GoqRole.Admin, Principal.Cluster.Role);
        Assert.True(AccessPolicy.Allows(Principal.Cluster, action));
        Assert.True(AccessPolicy.Allows(Principal.Cluster, action, "bob"));
        Assert.True(AccessPolicy.Allows(Principal.Cluster, action, ""));
        Assert.Null(AccessPolicy.Refusal(Principal.Cluster, action, 5, "bob"));
    }

    [Fact]
    public void AUserWithNoName_OwnsNothing()
    {
        var nameless = new Principal(null, GoqRole.User);
        Assert.False(AccessPolicy.IsOwner(nameless, ""));
        Assert.False(AccessPolicy.Allows(nameless, GoqAction.StopJob, ""));
        Assert.False(AccessPolicy.MaySee(nameless, "", privateJobs: true));
    }

    [Theory]
    [MemberData(nameof(ActionsAndRoles))]
    public void Refusal_IsNullWhenAllowed_ElseSaysWhoWhatAndWhoMay(GoqAction action, GoqRole role)
    {
        var who = new Principal("alice", role);
        var (isJob, least) = Classified(action);

        Assert.Equal(Expected(role, action, own: true), AccessPolicy.Refusal(who, action, 42, "alice") is null);

        var refusal = AccessPolicy.Refusal(who, action, 42, "bob");
        if (Expected(role, action, own: false))
        {
            Assert.Null(refusal);
            return;
        }

        Assert.NotNull(refusal);
        Assert.StartsWith("access denied: alice (" + role + ") may not " + AccessPolicy.Verb(action) + " job 42, owned by bob; ", refusal);
        var mayDo = isJob ? OwnOnly : least == GoqRole.Operator ? OperatorUp : AdminOnly;
        Assert.Contains("; " + mayDo + " ", refusal);
        Assert.Contains("Set-GoqUser -Role", refusal);
    }

    [Theory]
    [InlineData(GoqAction.StopJob, "stop")]
    [InlineData(GoqAction.RemoveJob, "remove")]
    [InlineData(GoqAction.SetJob, "change")]
    [InlineData(GoqAction.RestartJob, "restart")]
    [InlineData(GoqAction.ReadOutput, "read the output of")]
    [InlineData(GoqAction.StopWorkers, "stop or drain workers")]
    [InlineData(GoqAction.SetQueue, "set a queue's limits")]
    [InlineData(GoqAction.ManageUsers, "grant, change or revoke users")]
    [InlineData(GoqAction.StopServer, "stop the server")]
    public void Verb_NamesTheAction(GoqAction action, string verb) => Assert.Equal(verb, AccessPolicy.Verb(action));

    [Fact]
    public void Refusal_OfAJobAction_NamesTheJobAndItsOwner()
    {
        var refusal = AccessPolicy.Refusal(new Principal("alice", GoqRole.User), GoqAction.StopJob, 17, "bob");
        Assert.Equal(
            "access denied: alice (User) may not stop job 17, owned by bob; only its owner, an Operator or an Admin may "
            + "(Get-GoqUser lists the roles; an Admin changes them with Set-GoqUser -Role)",
            refusal);
    }

    [Fact]
    public void Refusal_WithoutAJob_NamesOnlyTheAction()
    {
        Assert.Equal(
            "access denied: alice (User) may not stop or drain workers; only an Operator or an Admin may "
            + "(Get-GoqUser lists the roles; an Admin changes them with Set-GoqUser -Role)",
            AccessPolicy.Refusal(new Principal("alice", GoqRole.User), GoqAction.StopWorkers));
        Assert.Equal(
            "access denied: bob (Operator) may not stop the server; only an Admin may "
            + "(Get-GoqUser lists the roles; an Admin changes them with Set-GoqUser -Role)",
            AccessPolicy.Refusal(new Principal("bob", GoqRole.Operator), GoqAction.StopServer));
        Assert.StartsWith("access denied: bob (Operator) may not set a queue's limits; only an Admin may",
            AccessPolicy.Refusal(new Principal("bob", GoqRole.Operator), GoqAction.SetQueue));
        Assert.StartsWith("access denied: bob (Operator) may not grant, change or revoke users; only an Admin may",
            AccessPolicy.Refusal(new Principal("bob", GoqRole.Operator), GoqAction.ManageUsers));
    }

    [Fact]
    public void Refusal_WithAJobOfUnknownOwner_NamesTheJobAlone()
    {
        var refusal = AccessPolicy.Refusal(new Principal("alice", GoqRole.User), GoqAction.RemoveJob, 9);
        Assert.StartsWith("access denied: alice (User) may not remove job 9; only its owner", refusal);
    }

    [Theory]
    [InlineData(GoqRole.User, false, true, true)]
    [InlineData(GoqRole.User, true, true, false)]
    [InlineData(GoqRole.Operator, false, true, true)]
    [InlineData(GoqRole.Operator, true, true, true)]
    [InlineData(GoqRole.Admin, false, true, true)]
    [InlineData(GoqRole.Admin, true, true, true)]
    public void MaySee_EveryoneUnlessPrivate_ThenOwnOnlyForUsers(GoqRole role, bool privateJobs, bool seesOwn, bool seesOthers)
    {
        var who = new Principal("alice", role);
        Assert.Equal(seesOwn, AccessPolicy.MaySee(who, "alice", privateJobs));
        Assert.Equal(seesOthers, AccessPolicy.MaySee(who, "bob", privateJobs));
        Assert.Equal(seesOthers, AccessPolicy.MaySee(who, "", privateJobs));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MaySee_TheClusterSecretsHolder_SeesEverything(bool privateJobs)
    {
        Assert.True(AccessPolicy.MaySee(Principal.Cluster, "bob", privateJobs));
        Assert.True(AccessPolicy.MaySee(Principal.Cluster, "", privateJobs));
    }

    [Fact]
    public void LeastRoleFor_AnUndefinedAction_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => AccessPolicy.LeastRoleFor((GoqAction)999));
        Assert.False(AccessPolicy.IsJobAction((GoqAction)999));
    }

    [Fact]
    public void Principal_SaysWhoItIs()
    {
        Assert.Equal("alice (Operator)", new Principal("alice", GoqRole.Operator).ToString());
        Assert.Equal("the cluster secret's holder", Principal.Cluster.ToString());
        Assert.False(new Principal("alice", GoqRole.Admin).IsCluster);
        Assert.Equal(new Principal("alice", GoqRole.User), new Principal("alice", GoqRole.User));
        Assert.NotEqual(new Principal("alice", GoqRole.User), new Principal("alice", GoqRole.Operator));
    }
}
