namespace Scheduler.LoadTest;

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Scheduler.Grains;
using GenerationSample = Scheduler.Api.V1.GenerationSample;

/// <summary>Throughput and latency of one ceiling measurement.</summary>
internal sealed record CeilingResult(string Name, int Concurrency, double Seconds, long Count, double PerSecond, double P50Ms, double P99Ms, double P999Ms);

/// <summary>
/// The ceilings the scheduler stands on, measured in the same run so that its figures can be read as ratios:
/// grpc-dotnet with a service that does nothing (unary and client streaming, on a Kestrel server configured like the
/// host's gRPC endpoint: loopback, HTTP/2 only), and an Orleans grain call to a grain that does nothing.
/// </summary>
internal static class Ceilings
{
    /// <summary>
    /// An empty unary call, and a client stream whose messages are counted and dropped, with the same concurrency and
    /// connection layout as the scheduler's scenarios (streams on their own connections; callers four to a connection).
    /// </summary>
    public static async Task<(CeilingResult Unary, CeilingResult Streaming)> GrpcAsync(int concurrency, int streams, IReadOnlyList<LoadPlant> plants,
        TimeSpan duration, CancellationToken cancellation)
    {
        var port = FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        await using var app = builder.Build();
        app.MapGrpcService<EmptyService>();
        await app.StartAsync(cancellation);
        try
        {
            var address = $"http://127.0.0.1:{port}";
            var unary = await CallLoopsAsync("grpc unary (empty service)", concurrency, duration, address, async invoker =>
                await invoker.AsyncUnaryCall(EmptyService.PingMethod, null, default, new Empty()));
            var streaming = await StreamsAsync(streams, plants, duration, address, cancellation);
            return (unary, streaming);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Grain calls to <see cref="IPingGrain"/> from inside the silo, as the gRPC services call grains; one grain per caller.</summary>
    public static async Task<CeilingResult> GrainCallsAsync(IGrainFactory grains, int concurrency, TimeSpan duration)
    {
        var callers = Enumerable.Range(0, concurrency).Select(i => grains.GetGrain<IPingGrain>(i)).ToArray();
        foreach (var caller in callers) await caller.PingAsync(); // activate first
        var latencies = new List<double>[concurrency];
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(c => Task.Run(async () =>
        {
            var mine = latencies[c] = new List<double>(1 << 16);
            while (Stopwatch.GetElapsedTime(started) < duration)
            {
                var t0 = Stopwatch.GetTimestamp();
                await callers[c].PingAsync();
                mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        })));
        return Result("orleans grain call (ping grain)", concurrency, Stopwatch.GetElapsedTime(started).TotalSeconds, latencies);
    }

    private static async Task<CeilingResult> CallLoopsAsync(string name, int concurrency, TimeSpan duration, string address, Func<CallInvoker, Task> call)
    {
        const int callersPerConnection = 4;
        var channels = Enumerable.Range(0, (concurrency + callersPerConnection - 1) / callersPerConnection).Select(_ => GrpcChannel.ForAddress(address)).ToList();
        try
        {
            var invokers = channels.Select(c => c.CreateCallInvoker()).ToList();
            for (var i = 0; i < invokers.Count; i++) await call(invokers[i]); // connect first
            var latencies = new List<double>[concurrency];
            var started = Stopwatch.GetTimestamp();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(c => Task.Run(async () =>
            {
                var mine = latencies[c] = new List<double>(1 << 16);
                var invoker = invokers[c / callersPerConnection];
                while (Stopwatch.GetElapsedTime(started) < duration)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    await call(invoker);
                    mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
            })));
            return Result(name, concurrency, Stopwatch.GetElapsedTime(started).TotalSeconds, latencies);
        }
        finally
        {
            foreach (var channel in channels) channel.Dispose();
        }
    }

    /// <summary>The telemetry scenario's streams and messages, against a service that only counts them.</summary>
    private static async Task<CeilingResult> StreamsAsync(int streams, IReadOnlyList<LoadPlant> plants, TimeSpan duration, string address, CancellationToken cancellation)
    {
        var shares = Enumerable.Range(0, streams).Select(s => plants.Where(p => p.Index % streams == s).ToArray()).ToArray();
        var started = Stopwatch.GetTimestamp();
        var counted = await Task.WhenAll(shares.Select(share => Task.Run(async () =>
        {
            using var channel = GrpcChannel.ForAddress(address);
            using var call = channel.CreateCallInvoker().AsyncClientStreamingCall(EmptyService.PushMethod, null, new CallOptions(cancellationToken: cancellation));
            var at = DateTimeOffset.UtcNow;
            for (var round = 0; Stopwatch.GetElapsedTime(started) < duration; round++)
                foreach (var plant in share)
                    await call.RequestStream.WriteAsync(new GenerationSample
                    {
                        PlantId = plant.Id,
                        Time = Timestamp.FromDateTimeOffset(at.AddSeconds(round)),
                        Megawatts = plant.NameplateMw * (0.55 + 0.35 * Math.Sin(round * 0.05 + plant.Index)),
                    }, cancellation);
            await call.RequestStream.CompleteAsync();
            return (await call.ResponseAsync).Value;
        }, cancellation)));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var count = counted.Sum();
        return new CeilingResult("grpc client streaming (empty service)", streams, seconds, count, count / seconds, double.NaN, double.NaN, double.NaN);
    }

    private static CeilingResult Result(string name, int concurrency, double seconds, List<double>[] latencies)
    {
        var sorted = latencies.SelectMany(l => l ?? []).Order().ToArray();
        return new CeilingResult(name, concurrency, seconds, sorted.Length, sorted.Length / seconds,
            JobCreateScenario.Percentile(sorted, 0.50), JobCreateScenario.Percentile(sorted, 0.99), JobCreateScenario.Percentile(sorted, 0.999));
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>
/// The baseline service, <c>bench.Ceiling</c>, defined in code (no proto: its methods are described here and bound the
/// way generated code binds them). Unary <c>Ping</c> takes and returns <c>Empty</c>; client-streaming <c>Push</c> takes
/// the scheduler's own <c>GenerationSample</c> message (so the bytes on the wire match telemetry) and returns the count.
/// </summary>
[BindServiceMethod(typeof(EmptyService), nameof(BindService))]
#pragma warning disable CA1852 // not sealed: grpc-dotnet binds only virtual handlers declared by the bound type
internal class EmptyService
#pragma warning restore CA1852
{
    private const string ServiceName = "bench.Ceiling";

    public static readonly Method<Empty, Empty> PingMethod = new(MethodType.Unary, ServiceName, "Ping",
        Marshallers.Create(m => m.ToByteArray(), Empty.Parser.ParseFrom), Marshallers.Create(m => m.ToByteArray(), Empty.Parser.ParseFrom));

    public static readonly Method<GenerationSample, Int64Value> PushMethod = new(MethodType.ClientStreaming, ServiceName, "Push",
        Marshallers.Create(m => m.ToByteArray(), GenerationSample.Parser.ParseFrom), Marshallers.Create(m => m.ToByteArray(), Int64Value.Parser.ParseFrom));

    public static void BindService(ServiceBinderBase binder, EmptyService? service)
    {
        binder.AddMethod(PingMethod, service is null ? null : service.Ping);
        binder.AddMethod(PushMethod, service is null ? null : service.Push);
    }

    // grpc-dotnet finds each handler by its wire name, public and virtual (as generated service bases declare them).
    public virtual Task<Empty> Ping(Empty request, ServerCallContext context) => Task.FromResult(request);

    public virtual async Task<Int64Value> Push(IAsyncStreamReader<GenerationSample> requests, ServerCallContext context)
    {
        long count = 0;
        await foreach (var _ in requests.ReadAllAsync(context.CancellationToken)) count++;
        return new Int64Value { Value = count };
    }
}
