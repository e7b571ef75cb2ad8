namespace Scheduler.Agent;

using System.Threading.Channels;
using Grpc.Core;
using Scheduler.Api.Client;
using Scheduler.Api.V1;

/// <summary>
/// One site's agent: keeps a stream to the scheduler's AgentService open (reconnecting with back-off when it
/// breaks), carries out its commands through <see cref="JobSupervisor"/>, and sends the jobs' reports. Reports are
/// kept while the stream is down and sent on the next connection; progress is sent every report interval (and a
/// heartbeat when there is none), so the scheduler can tell a quiet agent from a dead one.
/// </summary>
public sealed class SiteAgent : IAsyncDisposable
{
    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(30);
    private readonly AgentOptions _options;
    private readonly TextWriter _log;
    private readonly Channel<AgentMessage> _outbox = Channel.CreateUnbounded<AgentMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly JobSupervisor _jobs;
    private readonly CancellationTokenSource _stop = new();
    private AgentMessage? _unsent;
    private Task? _run;
    private TaskCompletionSource<string> _session = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SiteAgent(AgentOptions options, TextWriter? log = null)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(options));
        _options = options;
        _log = log ?? TextWriter.Synchronized(Console.Error);
        Directory.CreateDirectory(options.WorkDirectory);
        Directory.CreateDirectory(options.CheckpointStore);
        _jobs = new JobSupervisor(options, new CheckpointStore(options.CheckpointStore), m => _outbox.Writer.TryWrite(m), _log);
    }

    /// <summary>Where a job's files are on this site (its log is job.log in it).</summary>
    public string JobDirectory(string jobId) => _jobs.JobDirectory(jobId);

    /// <summary>Completes with the session id once the scheduler has welcomed this agent (again after each reconnect).</summary>
    public Task<string> Session => _session.Task;

    /// <summary>Starts the connection loop; <see cref="DisposeAsync"/> ends it.</summary>
    public SiteAgent Start()
    {
        _run ??= RunAsync(_stop.Token);
        return this;
    }

    /// <summary>Connects, serves, and reconnects until cancelled, or until the scheduler refuses the agent for good.</summary>
    public async Task RunAsync(CancellationToken cancellation)
    {
        var delay = _options.ReconnectDelay;
        while (!cancellation.IsCancellationRequested)
        {
            try
            {
                await ServeAsync(cancellation);
                delay = _options.ReconnectDelay;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.NotFound or StatusCode.InvalidArgument)
            {
                await _log.WriteLineAsync($"agent for site {_options.Site}: refused: {ex.StatusCode}: {ex.Status.Detail}");
                throw; // a retry would be refused the same way
            }
            catch (Exception ex) when (!cancellation.IsCancellationRequested && ex is RpcException or IOException or HttpRequestException or OperationCanceledException)
            {
                await _log.WriteLineAsync($"agent for site {_options.Site}: stream ended ({ex.Message}); reconnecting in {delay.TotalSeconds:0.#} s");
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested) { return; }
            if (_session.Task.IsCompleted) _session = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            try { await Task.Delay(delay, cancellation); } catch (OperationCanceledException) { return; }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxReconnectDelay.Ticks));
        }
    }

    private async Task ServeAsync(CancellationToken cancellation)
    {
        using var channel = SchedulerChannel.Create(_options.Address, _options.Token);
        using var call = new AgentService.AgentServiceClient(channel).Connect(cancellationToken: cancellation);
        await call.RequestStream.WriteAsync(new AgentMessage
        {
            Hello = new AgentHello { Site = _options.Site, AgentId = _options.AgentId, Running = { _jobs.Running() } },
        }, cancellation);
        if (!await call.ResponseStream.MoveNext(cancellation)) return;
        if (call.ResponseStream.Current.Welcome is not { } welcome) throw new IOException("the scheduler's first message was not a welcome");
        await _log.WriteLineAsync($"agent for site {_options.Site}: connected to {_options.Address}, session {welcome.Session}");
        _session.TrySetResult(welcome.Session);

        using var connection = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var writer = WriteAsync(call.RequestStream, connection.Token);
        try
        {
            while (await call.ResponseStream.MoveNext(connection.Token))
                _ = _jobs.Dispatch(call.ResponseStream.Current);
        }
        finally
        {
            await connection.CancelAsync();
            try { await writer; } catch (Exception ex) when (ex is OperationCanceledException or RpcException or IOException) { }
        }
    }

    /// <summary>The only writer of the stream: queued reports as they come, progress (or a heartbeat) every interval.</summary>
    private async Task WriteAsync(IClientStreamWriter<AgentMessage> stream, CancellationToken cancellation)
    {
        var nextReport = DateTime.UtcNow;
        while (!cancellation.IsCancellationRequested)
        {
            // A report taken from the queue but not written survives in _unsent for the next connection.
            while (_unsent is not null || _outbox.Reader.TryRead(out _unsent))
            {
                await stream.WriteAsync(_unsent!, cancellation);
                _unsent = null;
            }
            if (DateTime.UtcNow >= nextReport)
            {
                var progress = _jobs.Progress();
                foreach (var p in progress) await stream.WriteAsync(p, cancellation);
                if (progress.Count == 0) await stream.WriteAsync(new AgentMessage { Heartbeat = new AgentHeartbeat() }, cancellation);
                nextReport = DateTime.UtcNow + _options.ReportInterval;
            }
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            wait.CancelAfter(nextReport - DateTime.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero);
            try { await _outbox.Reader.WaitToReadAsync(wait.Token); }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested) { }
        }
    }

    /// <summary>Ends the connection and kills the jobs' processes: to the scheduler, the agent is gone.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
            try { await _run; } catch (Exception ex) when (ex is RpcException or OperationCanceledException) { }
        await _jobs.DisposeAsync();
        _stop.Dispose();
    }
}
