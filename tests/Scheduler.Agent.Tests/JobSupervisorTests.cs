namespace Scheduler.Agent.Tests;

using Scheduler.Api.V1;

/// <summary>The agent's side of epochs: a command older than one the job has seen is refused, and said to be.</summary>
public sealed class JobSupervisorTests : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "agent-sup-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<AgentMessage> _sent = [];
    private readonly JobSupervisor _jobs;

    public JobSupervisorTests()
    {
        var options = new AgentOptions { Site = "a", WorkDirectory = Path.Combine(_root, "work"), CheckpointStore = Path.Combine(_root, "store") };
        _jobs = new JobSupervisor(options, new CheckpointStore(options.CheckpointStore), m => { lock (_sent) _sent.Add(m); }, TextWriter.Null);
    }

    public async ValueTask DisposeAsync()
    {
        await _jobs.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task ACommandFromAnOlderEpoch_IsRefused_AndTheSameCommandAgainGetsTheSameAnswer()
    {
        await _jobs.Dispatch(new AgentCommand { Sequence = 1, Stop = new StopJob { JobId = "j", Epoch = 5, Reason = "released" } });
        await _jobs.Dispatch(new AgentCommand { Sequence = 2, Start = new StartJob { JobId = "j", Epoch = 4, Workload = new Workload { Command = "true" } } });
        await _jobs.Dispatch(new AgentCommand { Sequence = 3, Checkpoint = new CheckpointJob { JobId = "j", Epoch = 3 } });
        await _jobs.Dispatch(new AgentCommand { Sequence = 4, Stop = new StopJob { JobId = "j", Epoch = 5, Reason = "released" } });

        List<AgentMessage> sent;
        lock (_sent) sent = [.. _sent];
        Assert.Equal([AgentMessage.BodyOneofCase.Exited, AgentMessage.BodyOneofCase.Refused, AgentMessage.BodyOneofCase.Refused, AgentMessage.BodyOneofCase.Exited],
            sent.Select(m => m.BodyCase));
        Assert.Equal(("j", 4L, "start: stale epoch 4 < 5"), (sent[1].Refused.JobId, sent[1].Refused.Epoch, sent[1].Refused.Reason));
        Assert.Equal(("j", 3L, "checkpoint: stale epoch 3 < 5"), (sent[2].Refused.JobId, sent[2].Refused.Epoch, sent[2].Refused.Reason));
        Assert.Equal(sent[0], sent[3]); // idempotent: the repeated stop is answered as the first was
        Assert.Empty(_jobs.Running()); // nothing was started by the stale start
    }
}
