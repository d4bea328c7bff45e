using System.Text;
using Goq.Protocol;
using Goq.Tests.Support;
using Goq.Transport;
using NetMQ;

namespace Goq.SystemTests.Support;

/// <summary>
/// Makes hostile messages for a server: random frames, signed mutations of real messages, well-formed messages with
/// nonsense values, and replays. Signed ones use the cluster's secret, so they get past the MAC into the parser and
/// the handlers. Never makes a message that may legitimately stop the server or its jobs (shutdown, stop-workers,
/// cancel, remove), since a holder of the secret is allowed to do those.
/// </summary>
internal sealed class Fuzzer(int seed, byte[] secret, IReadOnlyList<long> realJobIds)
{
    private static readonly string[] Texts = ["", " ", "w", "\0", "\u202e\ud800", new string('x', 5000), "../../etc/passwd", "{\"k\":\"shutdown\"}", "NaN"];
    private static readonly int[] BadSlots = [0, -1, int.MinValue, int.MaxValue, 4097];
    private static readonly long[] Longs = [0, -1, 1, long.MinValue, long.MaxValue, int.MaxValue, int.MinValue, 3];
    private readonly Random _random = new(seed);
    private readonly WireCodec _wire = new(secret, TimeSpan.FromMinutes(3));
    private readonly List<NetMQMessage> _sent = [];

    public NetMQMessage Next()
    {
        var message = _random.Next(10) switch
        {
            0 or 1 or 2 => RandomFrames(),
            3 or 4 or 5 => RawMessages.Signed(secret, Mutate(FrameCodec.Encode(Nonsense(), _random.NextInt64(0, 100)))),
            6 or 7 or 8 => _wire.ToServer(Nonsense(), _random.NextInt64(0, 100)),
            _ => _sent.Count > 0 ? RawMessages.Copy(_sent[_random.Next(_sent.Count)]) : RandomFrames(),
        };
        if (_sent.Count < 1000 && _random.Next(20) == 0)
        {
            _sent.Add(RawMessages.Copy(message));
        }

        return message;
    }

    private NetMQMessage RandomFrames()
    {
        var message = new NetMQMessage();
        var frames = _random.Next(0, 5);
        for (var i = 0; i < frames; i++)
        {
            var bytes = new byte[_random.Next(3) switch { 0 => 0, 1 => _random.Next(1, 64), _ => _random.Next(1, 4096) }];
            _random.NextBytes(bytes);
            message.Append(bytes);
        }

        if (frames == 0)
        {
            message.AppendEmptyFrame();
        }

        return message;
    }

    private byte[] Mutate(byte[] bytes)
    {
        var list = bytes.ToList();
        for (var n = _random.Next(1, 4); n > 0 && list.Count > 0; n--)
        {
            var at = _random.Next(list.Count);
            switch (_random.Next(6))
            {
                case 0:
                    list[at] ^= (byte)(1 << _random.Next(8));
                    break;
                case 1:
                    list.RemoveRange(at, list.Count - at); // truncated
                    break;
                case 2:
                    list.InsertRange(at, Encoding.UTF8.GetBytes(_random.Next(4) switch { 0 => "99999999999999999999999", 1 => "[[[[[[[[", 2 => "null,", _ => "\"k\":\"nope\"," }));
                    break;
                case 3:
                    list[at] = (byte)_random.Next(256);
                    break;
                case 4:
                    list.InsertRange(at, list.Skip(at).Take(_random.Next(1, 50)).ToList()); // a duplicated run
                    break;
                default:
                    list.RemoveAt(at);
                    break;
            }
        }

        return [.. list];
    }

    private GoqMessage Nonsense() => _random.Next(16) switch
    {
        0 => new GetJobs(Ids(), _random.Next(2) == 0 ? null : [(JobState)_random.Next(-3, 20)]),
        1 => new GetServerStatus(),
        2 => new GetWorkers(),
        3 => new WatchJobs(Ids()),
        4 => new UnwatchJobs(Long()),
        5 => new ReadOutput(JobId(), Long(), (int)Long()),
        // Never a hello the server should take: a phantom worker may legitimately take and "finish" real jobs.
        6 => _random.Next(2) == 0
            ? new WorkerHello(Text(), Text(), (int)Long(), BadSlots[_random.Next(BadSlots.Length)], [new RunningJobRef(JobId(), (int)Long())], Text(), _random.Next(2) == 0, Text(), Long())
            : new WorkerHello(_random.Next(2) == 0 ? "" : "bad id\n", Text(), (int)Long(), 2, [new RunningJobRef(JobId(), (int)Long())], Text(), false, Text(), Long()),
        7 => new WorkerBye(Text()),
        8 => new JobStarted(Text(), JobId(), (int)Long(), (int)Long(), DateTimeOffset.UnixEpoch),
        9 => new JobOutput(Text(), JobId(), (int)Long(), [new OutputLine((OutputStream)_random.Next(-1, 4), Text())], Long()),
        10 => new JobFinished(Text(), JobId(), (int)Long(), (JobState)_random.Next(-3, 20), (int)Long(), Text(), null, DateTimeOffset.MaxValue, (int)Long(), Long()),
        11 => new SubmitJobs([new JobSpec
        {
            Kind = (JobKind)_random.Next(-1, 5),
            Command = _random.Next(2) == 0 ? "" : "/nonexistent/" + _random.Next(),
            WorkingDirectory = Text(),
            TimeoutSec = (int)Long(),
            MaxAttempts = (int)Long(),
            Name = Text(),
        }]),
        12 => new Ack(),
        13 => new JobFinishedAck(JobId(), (int)Long()),
        14 => new ErrorReply(Text(), Text()),
        _ => new OutputAck(JobId(), (int)Long(), Long()),
    };

    private List<long> Ids() => Enumerable.Range(0, _random.Next(3) == 0 ? _random.Next(0, 5000) : _random.Next(0, 4)).Select(_ => JobId()).ToList();

    private long JobId() => _random.Next(3) == 0 && realJobIds.Count > 0 ? realJobIds[_random.Next(realJobIds.Count)] : Long();

    private long Long() => _random.Next(3) == 0 ? _random.NextInt64() - (long.MaxValue / 2) : Longs[_random.Next(Longs.Length)];

    private string Text() => Texts[_random.Next(Texts.Length)];
}
