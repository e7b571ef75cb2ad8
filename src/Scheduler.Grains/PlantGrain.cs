namespace Scheduler.Grains;

using System.Diagnostics;
using Microsoft.Extensions.Options;
using Scheduler.Core.Model;
using Scheduler.Core.Telemetry;
using Scheduler.Grains.Diagnostics;
using Scheduler.Grains.Hosting;

[GenerateSerializer]
public sealed class PlantGrainState
{
    [Id(0)] public PlantSpec? Spec { get; set; }
    [Id(1)] public DateTimeOffset? LastSampleAt { get; set; }
    [Id(2)] public double LastMegawatts { get; set; }
    [Id(3)] public long Accepted { get; set; }
    [Id(4)] public long Rejected { get; set; }
    // Id 5 held the plant's last 60 samples, which nothing read: each sample lived a minute, so every young
    // collection copied the last seconds' worth (docs/performance.md, session 22). Stored states that have it skip it.
}

/// <summary>Validates a plant's telemetry, keeps its latest output, and tells its site.</summary>
public sealed class PlantGrain(
    [PersistentState("plant")] IPersistentState<PlantGrainState> state,
    SchedulerClock clock,
    IOptions<SchedulerOptions> options,
    IOptions<GenerationRulesOptions> rules,
    SchedulerMetrics metrics) : Grain, IPlantGrain
{
    /// <summary>The plant's own point of the write-behind interval (<see cref="StaggeredSchedule"/>), from its first sample here.</summary>
    private DateTimeOffset? _samplesWrittenAt;

    public async Task ConfigureAsync(PlantSpec spec)
    {
        var s = state.State;
        if (s.Spec is { } old && old.SiteId != spec.SiteId)
        {
            // A plant that changes site stops feeding the old one.
            await GrainFactory.Get<ISiteGrain>(old.SiteId).UpdatePlantOutputAsync(
                new PlantOutput(spec.Id, s.LastSampleAt ?? clock.GetUtcNow(), 0, 0, spec.GreenPriceCnyPerKilowattHour, null, []));
        }
        s.Spec = spec;
        await state.WriteStateAsync();
    }

    public Task<PlantStatus?> GetAsync() => Task.FromResult(state.State.Spec is { } spec
        ? new PlantStatus(spec, state.State.LastSampleAt, state.State.LastMegawatts, state.State.Accepted, state.State.Rejected)
        : null);

    public async Task<SampleVerdict> ReportAsync(GenerationSample sample, DateTimeOffset receivedAt)
    {
        var s = state.State;
        if (s.Spec is not { } spec) return new SampleVerdict(false, "plant_id", $"unknown plant '{this.GetPrimaryKeyString()}'");
        var now = clock.GetUtcNow();
        var violation = GenerationRules.Check(spec, s.LastSampleAt, sample.At, sample.Megawatts, sample.Forecast, now, rules.Value);
        metrics.SampleReceived(violation is null, (now - sample.At).TotalSeconds);
        if (violation is { } v)
        {
            s.Rejected++;
            return new SampleVerdict(false, v.Field, v.Description);
        }

        s.Accepted++;
        s.LastSampleAt = sample.At;
        s.LastMegawatts = sample.Megawatts;

        await GrainFactory.Get<ISiteGrain>(spec.SiteId).UpdatePlantOutputAsync(new PlantOutput(
            spec.Id, sample.At, sample.Megawatts, spec.NameplateMegawatts, spec.GreenPriceCnyPerKilowattHour, sample.OutsideCelsius, sample.Forecast,
            // Decision spans link to the sample that fed them; an unsampled sample has no span to link to.
            Activity.Current is { Recorded: true } sampled ? sampled.Id : null, receivedAt));

        // Telemetry is re-sent every second or so: written behind, at the plant's own point of each half of
        // PlantStaleAfter. Plants configured together wrote together: 1,000 of them within a second or two of every minute.
        var interval = options.Value.PlantStaleAfter / 2;
        var last = _samplesWrittenAt ??= StaggeredSchedule.Start(now, interval, Random.Shared.NextDouble());
        if (StaggeredSchedule.IsDue(last, interval, now))
        {
            await state.WriteStateAsync();
            _samplesWrittenAt = StaggeredSchedule.Next(last, interval, now);
        }
        return SampleVerdict.Ok;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (state.State.Spec is not null) await state.WriteStateAsync(cancellationToken);
    }
}
