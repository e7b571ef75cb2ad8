namespace Scheduler.LoadTest;

using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Scheduler.Api.V1;

internal sealed record JobCounts(int Total, int Queued, int Running, int Paused, int Relocating);

internal sealed record JobCreateResult(
    int Concurrency,
    double Seconds,
    long Created,
    long Errors,
    double CreatesPerSecond,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double P999Ms,
    double MaxMs,
    double MeanMs,
    IReadOnlyList<string> Problems,
    IReadOnlyList<long> CreatedPerSecond,
    JobCounts JobsAfter,
    long? Spans,
    double? SpansPerSecond,
    IReadOnlyList<SpanProfile>? SpanProfile,
    RuntimeStats Runtime);

/// <summary>
/// Scenario 3: <c>concurrency</c> callers each keep one unary <c>CreateJob</c> in flight until the duration is up
/// (four callers share a connection). Each job is small (1-8 GPUs), names 1-3 neighbouring load sites as its allowed
/// sites, and has a unique request id. Latency is per call, client side.
/// </summary>
internal sealed class JobCreateScenario(LoadHost host, LoadFleet fleet, int concurrency)
{
    private const int CallersPerConnection = 4;
    private readonly string _runTag = Guid.NewGuid().ToString("N")[..6];
    private int _phase;

    /// <param name="target">Stop once this many creates have been issued (and the duration is then only a limit).</param>
    public async Task<JobCreateResult> RunAsync(TimeSpan duration, string label, CancellationToken cancellation, long? target = null)
    {
        var phase = Interlocked.Increment(ref _phase);
        long created = 0, errors = 0, issued = 0;
        var problems = new ConcurrentQueue<string>();
        var channels = Enumerable.Range(0, (concurrency + CallersPerConnection - 1) / CallersPerConnection).Select(_ => host.NewChannel()).ToList();
        var latencies = new List<double>[concurrency];
        var spansBefore = host.Spans?.Ended;
        host.Spans?.TakeProfile(0);
        var runtime = RuntimeStats.Start();
        var started = Stopwatch.GetTimestamp();

        async Task CallerAsync(int caller)
        {
            var client = new JobService.JobServiceClient(channels[caller / CallersPerConnection]);
            var random = new Random(phase * 1_000 + caller);
            var mine = latencies[caller] = new List<double>(4_096);
            for (var n = 0; Stopwatch.GetElapsedTime(started) < duration && !cancellation.IsCancellationRequested; n++)
            {
                if (target is { } t && Interlocked.Increment(ref issued) > t) break;
                var request = NewRequest(random, $"{_runTag}-{phase}-{caller}-{n}", $"load-t{caller % 4}");
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    await client.CreateJobAsync(request, cancellationToken: cancellation);
                    mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    Interlocked.Increment(ref created);
                }
                catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled)
                {
                    if (Interlocked.Increment(ref errors) <= 5) problems.Enqueue($"CreateJob failed: {ex.Status.StatusCode}: {ex.Status.Detail}");
                }
            }
        }

        ProgressTicker ticker;
        await using (ticker = new ProgressTicker(label, () => Interlocked.Read(ref created), "jobs created",
                         () => Interlocked.Read(ref errors) is var e and > 0 ? $"errors {e}" : ""))
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(c => Task.Run(() => CallerAsync(c), cancellation)));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var stats = runtime();
        var spans = host.Spans?.Ended - spansBefore;
        var profile = host.Spans?.TakeProfile(12);

        var jobsAfter = await CountJobsAsync(channels[0], cancellation);
        foreach (var channel in channels) channel.Dispose();

        var sorted = latencies.SelectMany(l => l ?? []).Order().ToArray();
        return new JobCreateResult(concurrency, seconds, created, errors, created / seconds,
            Percentile(sorted, 0.50), Percentile(sorted, 0.90), Percentile(sorted, 0.99), Percentile(sorted, 0.999),
            sorted.Length > 0 ? sorted[^1] : double.NaN, sorted.Length > 0 ? sorted.Average() : double.NaN,
            [.. problems], [.. ticker.PerSecond], jobsAfter, spans, spans / seconds, profile, stats);
    }

    /// <summary>One more job of the same kind, for a caller of its own (a trickle of creates beside another phase).</summary>
    public CreateJobRequest NewRequest(Random random, string requestId) => NewRequest(random, $"{_runTag}-{requestId}", $"load-t{random.Next(4)}");

    private CreateJobRequest NewRequest(Random random, string requestId, string tenant)
    {
        var gpus = random.Next(1, 9);
        var first = random.Next(fleet.SiteIds.Count);
        var count = Math.Min(random.Next(1, 4), fleet.SiteIds.Count - first);
        return new CreateJobRequest
        {
            RequestId = requestId,
            Job = new JobSpec
            {
                Tenant = tenant,
                Gpus = gpus,
                WorkGpuHours = Math.Round(gpus * (0.05 + random.NextDouble() * 2), 3),
                Interruptible = random.NextDouble() < 0.7,
                Relocatable = random.NextDouble() < 0.5,
                CheckpointGb = random.Next(1, 50),
                AllowedSites = { fleet.SiteIds.Skip(first).Take(count) },
                TokensPerGpuHour = 1_000_000,
            },
        };
    }

    /// <summary>Jobs by state right after the phase (every region), through the public JobService.</summary>
    public static async Task<JobCounts> CountJobsAsync(GrpcChannel channel, CancellationToken cancellation)
    {
        var client = new JobService.JobServiceClient(channel);
        async Task<int> Count(JobState state) =>
            (await client.ListJobsAsync(new ListJobsRequest { PageSize = 1, State = state }, cancellationToken: cancellation)).TotalSize;
        return new JobCounts(await Count(JobState.Unspecified), await Count(JobState.Queued), await Count(JobState.Running),
            await Count(JobState.Paused), await Count(JobState.Relocating));
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
