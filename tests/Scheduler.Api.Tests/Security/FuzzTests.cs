namespace Scheduler.Api.Tests.Security;

using System.Collections;
using System.Collections.Concurrent;
using CsCheck;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Scheduler.Api.Security;
using Scheduler.Api.V1;
using Xunit.Abstractions;

/// <summary>
/// Throws random, mutated and garbage messages at every RPC, with every kind of credential, and asserts that every
/// reply is a clean status (never INTERNAL, UNKNOWN or a dropped connection), that the server still serves
/// afterwards, and that no rejected call changed the fleet or any job.
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    /// <summary>Messages sent in all (the issue asks for at least 10,000).</summary>
    private const int Samples = 100, MessagesPerSample = 100;

    private static readonly StatusCode[] Unclean = [StatusCode.Internal, StatusCode.Unknown, StatusCode.DataLoss, StatusCode.Unimplemented, StatusCode.Unavailable];

    private sealed record Rpc(MethodDescriptor Method, bool Mutating)
    {
        public string Name => $"{Method.Service.Name}/{Method.Name}";
    }

    private static readonly Rpc[] Rpcs =
    [
        .. JobService.Descriptor.Methods.Select(m => new Rpc(m, m.Name is "CreateJob" or "CancelJob")),
        .. TelemetryService.Descriptor.Methods.Select(m => new Rpc(m, true)),
        .. FleetService.Descriptor.Methods.Select(m => new Rpc(m, m.Name.StartsWith("Upsert", StringComparison.Ordinal))),
        .. ReplayService.Descriptor.Methods.Select(m => new Rpc(m, true)),
    ];

    /// <summary>The detail of the last unclean status (the fuzz is single-threaded), for the failure message.</summary>
    private static string? LastUnclean;

    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    [Fact]
    [Trait("Category", "Fuzz")]
    public async Task RandomAndMutatedMessages_GetCleanStatuses_AndRejectedCallsChangeNothing()
    {
        await using var host = await SchedulerHost.StartFreshAsync();
        var jobIds = new List<string>();
        var jobs = new JobService.JobServiceClient(host.Channel);
        for (var i = 0; i < 3; i++)
            jobIds.Add((await jobs.CreateJobAsync(new CreateJobRequest { Job = new JobSpec { Tenant = "fuzz", Gpus = 8, WorkGpuHours = 8 } })).Id);
        var tokens = new[]
        {
            host.Credentials.MintOperator("fuzz-operator"), host.Credentials.Mint(CallerIdentity.ForTenant("fuzz")),
            host.Credentials.Mint(CallerIdentity.ForPlant("horinger-wind")), "garbage", null,
        };
        var channels = tokens.Select(host.ChannelWithToken).ToArray();
        string[] strings = [ "", "horinger", "baotou", "ulanqab", "inner-mongolia", "horinger-wind", "baotou-solar", "fuzz", "demo", "greedy", "scheduler",
            "a b", "../x", "\0", "租户", new string('x', 129), new string('y', 5000), .. jobIds ];
        var doubles = new[] { 0, 1, -1, 0.5, 8, 64, 1e6, 1e300, double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon, -0.0, double.MaxValue };
        var longs = new[] { 0L, 1, -1, 8, 64, 1000, int.MaxValue, int.MinValue, long.MaxValue, long.MinValue, host.Time.GetUtcNow().ToUnixTimeSeconds(), 253_402_300_800 };

        var counts = new ConcurrentDictionary<StatusCode, int>();
        var byRpc = new ConcurrentDictionary<string, int>();
        var sent = 0;
        var before = await StateProbe.TakeAsync(host);
        var failures = new List<string>();

        await Gen.Int.SampleAsync(async seed =>
        {
            var random = new Random(seed);
            for (var n = 0; n < MessagesPerSample; n++)
            {
                var rpc = Rpcs[random.Next(Rpcs.Length)];
                var channel = channels[random.Next(channels.Length)];
                var kind = random.Next(10);
                var messages = Enumerable.Range(0, rpc.Method.IsClientStreaming ? 1 + random.Next(5) : 1).Select(_ => kind switch
                {
                    < 6 => RandomMessage(rpc.Method.InputType, random, strings, doubles, longs, depth: 0).ToByteArray(),
                    < 9 => Mutate(RandomMessage(rpc.Method.InputType, random, strings, doubles, longs, depth: 0).ToByteArray(), random),
                    _ => RandomBytes(random),
                }).ToList();

                var code = await SendAsync(channel, rpc.Method, messages);
                Interlocked.Add(ref sent, messages.Count);
                counts.AddOrUpdate(code, 1, (_, c) => c + 1);
                byRpc.AddOrUpdate(rpc.Name, 1, (_, c) => c + 1);
                if (Unclean.Contains(code)) failures.Add($"{rpc.Name} (seed {seed}, message {n}): {code}: {LastUnclean}");
                // A rejected call must leave the state as it was; an accepted mutating call moves the baseline.
                if (rpc.Mutating)
                {
                    var after = await StateProbe.TakeAsync(host);
                    if (code != StatusCode.OK && after != before) failures.Add($"{rpc.Name} (seed {seed}, message {n}): rejected with {code} but changed the state");
                    before = after;
                }
            }
            Assert.True(failures.Count == 0, string.Join("\n", failures.Take(10)));
        }, iter: Samples, threads: 1);

        // Still serving, and still refusing the unauthenticated.
        Assert.NotEmpty((await new FleetService.FleetServiceClient(host.Channel).ListSitesAsync(new ListSitesRequest())).Sites);
        output.WriteLine($"fuzz: {sent} messages in {counts.Values.Sum()} calls over {byRpc.Count} RPCs; statuses: " +
            string.Join(", ", counts.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}")));
        output.WriteLine("fuzz: calls per RPC: " + string.Join(", ", byRpc.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.True(sent >= 10_000, $"{sent} messages");
        Assert.Equal(Rpcs.Length, byRpc.Count);
    }

    private static async Task<StatusCode> SendAsync(Grpc.Net.Client.GrpcChannel channel, MethodDescriptor method, List<byte[]> messages)
    {
        var type = method.IsClientStreaming ? MethodType.ClientStreaming : method.IsServerStreaming ? MethodType.ServerStreaming : MethodType.Unary;
        var raw = new Method<byte[], byte[]>(type, method.Service.FullName, method.Name, Bytes, Bytes);
        var invoker = channel.CreateCallInvoker();
        // A watch of a live job streams until the job ends: the fuzz ends it with its own deadline.
        var options = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(method.IsServerStreaming ? 1 : 20));
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(raw, null, options, messages[0]);
                    break;
                case MethodType.ClientStreaming:
                    using (var call = invoker.AsyncClientStreamingCall(raw, null, options))
                    {
                        try
                        {
                            foreach (var m in messages) await call.RequestStream.WriteAsync(m);
                            await call.RequestStream.CompleteAsync();
                        }
                        catch (RpcException) { } // the server ended the stream early: its status is in the response
                        catch (InvalidOperationException) { }
                        await call.ResponseAsync;
                    }
                    break;
                default:
                    using (var call = invoker.AsyncServerStreamingCall(raw, null, options, messages[0]))
                        while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
                    break;
            }
            return StatusCode.OK;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.DeadlineExceeded && method.IsServerStreaming)
        {
            return StatusCode.OK; // an admitted watch that was still streaming when the fuzz hung up
        }
        catch (RpcException ex)
        {
            if (Unclean.Contains(ex.StatusCode)) LastUnclean = $"{ex.Status.Detail} {ex.Status.DebugException?.GetType().Name}: {ex.Status.DebugException?.Message}";
            return ex.StatusCode;
        }
    }

    /// <summary>A message of the given type with random fields: strings, numbers, enums (known or not), nested messages, lists.</summary>
    private static IMessage RandomMessage(MessageDescriptor type, Random random, string[] strings, double[] doubles, long[] longs, int depth)
    {
        var message = type.Parser.ParseFrom(ByteString.Empty);
        if (type.FullName == Timestamp.Descriptor.FullName)
        {
            // Mostly valid times near now (so telemetry and deadlines are sometimes accepted), sometimes out of range.
            var t = (Timestamp)message;
            t.Seconds = random.Next(4) == 0 ? longs[random.Next(longs.Length)] : longs[10] + random.Next(-7200, 7200);
            t.Nanos = random.Next(8) == 0 ? random.Next(int.MinValue, int.MaxValue) : 0;
            return message;
        }
        foreach (var field in type.Fields.InFieldNumberOrder())
        {
            if (random.Next(3) == 0) continue;
            if (field.IsMap)
            {
                // String maps only (a workload's environment): random names and values, sometimes too many.
                var map = (IDictionary)field.Accessor.GetValue(message);
                var count = random.Next(20) == 0 ? 1100 : random.Next(4);
                for (var i = 0; i < count && depth < 3; i++) map[strings[random.Next(strings.Length)] + i] = strings[random.Next(strings.Length)];
            }
            else if (field.IsRepeated)
            {
                var list = (IList)field.Accessor.GetValue(message);
                var count = random.Next(20) == 0 ? 1100 : random.Next(4);
                for (var i = 0; i < count && depth < 3; i++) list.Add(Value(field, random, strings, doubles, longs, depth));
            }
            else if (depth < 3 || field.FieldType != FieldType.Message) field.Accessor.SetValue(message, Value(field, random, strings, doubles, longs, depth));
        }
        return message;
    }

    private static object Value(FieldDescriptor field, Random random, string[] strings, double[] doubles, long[] longs, int depth) => field.FieldType switch
    {
        FieldType.String => strings[random.Next(strings.Length)],
        FieldType.Double => doubles[random.Next(doubles.Length)],
        FieldType.Float => (float)doubles[random.Next(doubles.Length)],
        FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => (int)longs[random.Next(longs.Length)],
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => longs[random.Next(longs.Length)],
        FieldType.UInt32 or FieldType.Fixed32 => (uint)longs[random.Next(longs.Length)],
        FieldType.UInt64 or FieldType.Fixed64 => (ulong)longs[random.Next(longs.Length)],
        FieldType.Bool => random.Next(2) == 0,
        FieldType.Bytes => ByteString.CopyFrom(RandomBytes(random)),
        FieldType.Enum => System.Enum.ToObject(field.EnumType.ClrType, random.Next(4) == 0 ? random.Next(-5, 100) : field.EnumType.Values[random.Next(field.EnumType.Values.Count)].Number),
        FieldType.Message => RandomMessage(field.MessageType, random, strings, doubles, longs, field.MessageType.FullName == Timestamp.Descriptor.FullName ? depth : depth + 1),
        _ => throw new NotSupportedException(field.FieldType.ToString()),
    };

    /// <summary>Flips, inserts, deletes or truncates bytes of an encoded message.</summary>
    private static byte[] Mutate(byte[] bytes, Random random)
    {
        var list = bytes.ToList();
        for (var i = 1 + random.Next(4); i > 0; i--)
        {
            switch (random.Next(4))
            {
                case 0 when list.Count > 0: list[random.Next(list.Count)] ^= (byte)(1 << random.Next(8)); break;
                case 1: list.Insert(random.Next(list.Count + 1), (byte)random.Next(256)); break;
                case 2 when list.Count > 0: list.RemoveAt(random.Next(list.Count)); break;
                case 3: list = list.Take(random.Next(list.Count + 1)).ToList(); break;
            }
        }
        return [.. list];
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(64)];
        random.NextBytes(bytes);
        return bytes;
    }
}
