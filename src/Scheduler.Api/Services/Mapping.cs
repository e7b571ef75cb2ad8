namespace Scheduler.Api.Services;

using Google.Protobuf.WellKnownTypes;
using Scheduler.Core.Accounting;
using Scheduler.Core.Execution;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;
using Scheduler.Grains;
using V1 = Scheduler.Api.V1;

/// <summary>Proto ↔ model mapping. Validation happens before mapping, in <see cref="RequestValidation"/>.</summary>
internal static class Mapping
{
    public static Timestamp? ToProto(this DateTimeOffset? t) => t is { } v ? Timestamp.FromDateTimeOffset(v) : null;
    public static Timestamp ToProto(this DateTimeOffset t) => Timestamp.FromDateTimeOffset(t);

    public static V1.JobState ToProto(this JobStatus s) => s switch
    {
        JobStatus.Queued => V1.JobState.Queued,
        JobStatus.Running => V1.JobState.Running,
        JobStatus.Paused => V1.JobState.Paused,
        JobStatus.Relocating => V1.JobState.Relocating,
        JobStatus.Completed => V1.JobState.Completed,
        JobStatus.Cancelled => V1.JobState.Cancelled,
        JobStatus.Failed => V1.JobState.Failed,
        _ => V1.JobState.Unspecified,
    };

    public static JobStatus? ToModel(this V1.JobState s) => s switch
    {
        V1.JobState.Queued => JobStatus.Queued,
        V1.JobState.Running => JobStatus.Running,
        V1.JobState.Paused => JobStatus.Paused,
        V1.JobState.Relocating => JobStatus.Relocating,
        V1.JobState.Completed => JobStatus.Completed,
        V1.JobState.Cancelled => JobStatus.Cancelled,
        V1.JobState.Failed => JobStatus.Failed,
        _ => null,
    };

    public static V1.EnergyLedger ToProto(this EnergyLedger l) => new()
    {
        GreenMwh = l.GreenMegawattHours, BatteryMwh = l.BatteryMegawattHours, GridMwh = l.GridMegawattHours,
        CurtailedMwh = l.CurtailedMegawattHours, RelocationMwh = l.RelocationMegawattHours, CostCny = l.CostCny,
        Co2EmittedKg = l.Co2EmittedKg, Co2AvoidedKg = l.Co2AvoidedKg, Tokens = l.Tokens, Relocations = l.Relocations,
        RelocatedGb = l.RelocatedGigabytes, GreenShare = l.GreenShare, TokensPerKwh = l.TokensPerKilowattHour,
    };

    public static V1.JobSpec ToProto(this JobSpec s)
    {
        var p = new V1.JobSpec
        {
            Tenant = s.TenantId, Gpus = s.Gpus, WorkGpuHours = s.WorkGpuHours, Deadline = s.Deadline.ToProto(),
            Interruptible = s.Interruptible, Relocatable = s.Relocatable, CheckpointGb = s.CheckpointGigabytes,
        };
        p.AllowedSites.AddRange(s.AllowedSites);
        if (s.TokensPerGpuHour is { } t) p.TokensPerGpuHour = t;
        if (s.Workload is { } w) p.Workload = w.ToProto();
        return p;
    }

    public static JobSpec ToModel(this V1.JobSpec p, string id, DateTimeOffset arrival) => new(
        id, p.Tenant, p.Gpus, p.WorkGpuHours, arrival, p.Deadline?.ToDateTimeOffset(), p.Interruptible, p.Relocatable,
        p.CheckpointGb, p.AllowedSites.ToList(), p.HasTokensPerGpuHour ? p.TokensPerGpuHour : null, p.Workload?.ToModel());

    public static WorkloadSpec ToModel(this V1.Workload p) =>
        new(p.Command, p.Args.ToList(), new Dictionary<string, string>(p.Env, StringComparer.Ordinal));

    public static V1.Workload ToProto(this WorkloadSpec w)
    {
        var p = new V1.Workload { Command = w.Command };
        p.Args.AddRange(w.Arguments);
        foreach (var (name, value) in w.Environment) p.Env[name] = value;
        return p;
    }

    public static V1.JobEvent ToProto(this JobEvent e, string jobId) => new()
    {
        Sequence = e.Sequence, Time = e.At.ToProto(), State = e.Status.ToProto(), Kind = e.Kind,
        FromSite = e.FromSiteId ?? "", ToSite = e.ToSiteId ?? "", Reason = e.Reason, Detail = e.Detail, JobId = jobId,
        TraceId = e.TraceId ?? "",
    };

    public static V1.Job ToProto(this JobRecord r, bool withHistory)
    {
        var job = ToProto(r.State, r.Region, r.CreatedAt, r.Ledger);
        if (withHistory) job.History.AddRange(r.History.Select(e => e.ToProto(r.State.Id)));
        return job;
    }

    public static V1.Job ToProto(this JobSummary s) => ToProto(s.State, s.Region, s.CreatedAt, s.Ledger);

    private static V1.Job ToProto(JobState s, string region, DateTimeOffset createdAt, EnergyLedger ledger) => new()
    {
        Id = s.Id, Spec = s.Spec.ToProto(), State = s.Status.ToProto(), Site = s.SiteId ?? "",
        RemainingGpuHours = s.RemainingGpuHours, CreateTime = createdAt.ToProto(), Epoch = s.Epoch,
        Ledger = ledger.ToProto(), Region = region, TransferEndTime = s.TransferEndsAt.ToProto(),
    };

    public static V1.Site ToProto(this SiteSpec s) => new()
    {
        Id = s.Id, Region = s.Region, GpuCount = s.GpuCount, KilowattsPerGpu = s.KilowattsPerGpu,
        Cooling = new V1.Cooling
        {
            FreeCoolingPue = s.Cooling.FreeCoolingPue, MechanicalPue = s.Cooling.MechanicalPue,
            FreeCoolingBelowCelsius = s.Cooling.FreeCoolingBelowCelsius, RampCelsius = s.Cooling.RampCelsius,
        },
        BaseLoadMw = s.BaseLoadMegawatts,
        Battery = new V1.Battery
        {
            CapacityMwh = s.Battery.CapacityMegawattHours, MaxChargeMw = s.Battery.MaxChargeMegawatts,
            MaxDischargeMw = s.Battery.MaxDischargeMegawatts, RoundTripEfficiency = s.Battery.RoundTripEfficiency,
            MinStateOfCharge = s.Battery.MinStateOfCharge, MaxStateOfCharge = s.Battery.MaxStateOfCharge,
        },
        GridImportLimitMw = s.GridImportLimitMegawatts, GridPriceCnyPerKwh = s.GridPriceCnyPerKilowattHour,
        GridCarbonKgPerKwh = s.GridCarbonKgPerKilowattHour,
    };

    /// <summary>Maps a site; a missing cooling model means the cold-climate default, a missing battery means none.</summary>
    public static SiteSpec ToModel(this V1.Site p) => new(
        p.Id, p.Region, p.GpuCount, p.KilowattsPerGpu,
        p.Cooling is { } c ? new CoolingModel(c.FreeCoolingPue, c.MechanicalPue, c.FreeCoolingBelowCelsius, c.RampCelsius) : CoolingModel.ColdClimate,
        p.BaseLoadMw,
        p.Battery is { } b ? new BatterySpec(b.CapacityMwh, b.MaxChargeMw, b.MaxDischargeMw, b.RoundTripEfficiency, b.MinStateOfCharge, b.MaxStateOfCharge) : BatterySpec.None,
        p.GridImportLimitMw, p.GridPriceCnyPerKwh, p.GridCarbonKgPerKwh);

    public static V1.Plant ToProto(this PlantSpec s) => new()
    {
        Id = s.Id, Kind = s.Kind == PlantKind.Wind ? V1.PlantKind.Wind : V1.PlantKind.Solar, NameplateMw = s.NameplateMegawatts,
        SiteId = s.SiteId, GreenPriceCnyPerKwh = s.GreenPriceCnyPerKilowattHour,
    };

    public static PlantSpec ToModel(this V1.Plant p) => new(
        p.Id, p.Kind == V1.PlantKind.Wind ? PlantKind.Wind : PlantKind.Solar, p.NameplateMw, p.SiteId,
        p.HasGreenPriceCnyPerKwh ? p.GreenPriceCnyPerKwh : PlantSpec.DefaultGreenPriceCnyPerKilowattHour);

    public static V1.Link ToProto(this LinkSpec l) => new() { SiteA = l.SiteA, SiteB = l.SiteB, BandwidthGbps = l.BandwidthGbps };

    public static V1.SiteStatus ToProto(this SiteStatus s, DateTimeOffset now)
    {
        var p = new V1.SiteStatus
        {
            Site = s.Spec.ToProto(), SteppedAt = s.SteppedAt.ToProto(), GreenSupplyMw = s.GreenSupplyMegawatts, LoadMw = s.LoadMegawatts,
            SurplusMw = s.SurplusMegawatts, BatteryMw = s.BatteryMegawatts, StateOfChargeMwh = s.StateOfChargeMegawattHours,
            StateOfChargeFraction = s.Spec.Battery.CapacityMegawattHours > 0 ? s.StateOfChargeMegawattHours / s.Spec.Battery.CapacityMegawattHours : 0,
            GridImportMw = s.GridImportMegawatts, CurtailmentMw = s.CurtailmentMegawatts, ShortfallMw = s.ShortfallMegawatts,
            ExportMw = s.ExportMegawatts, OutsideCelsius = s.OutsideCelsius, UsedGpus = s.UsedGpus, Ledger = s.Ledger.ToProto(),
            SteppedGreenSupplyMw = s.SteppedGreenMegawatts,
            Executor = s.Executor switch
            {
                null => SiteExecutorStatus.Clock,
                { Kind: SiteExecutorStatus.Agent, Connected: false } => "agent-offline",
                { } e => e.Kind,
            },
            AgentId = s.Executor?.AgentId ?? "",
        };
        p.Jobs.AddRange(s.Jobs.Select(a => new V1.SiteJob
        {
            JobId = a.Job.Id, Tenant = a.Job.Spec.TenantId, Gpus = a.Job.Spec.Gpus, State = a.Job.Status.ToProto(), ArrivesAt = a.ArrivesAt.ToProto(),
        }));
        p.Plants.AddRange(s.Plants.Select(o => new V1.PlantOutput
        {
            PlantId = o.PlantId, Time = o.At.ToProto(), Megawatts = o.Megawatts, Stale = s.IsStale(o, now),
        }));
        return p;
    }

    public static GenerationSample ToModel(this V1.GenerationSample p) => new(
        p.Time.ToDateTimeOffset(), p.Megawatts, p.HasOutsideCelsius ? p.OutsideCelsius : null, ToModel(p.Forecast));

    // Once per telemetry sample, nearly always empty: no iterator or list for that.
    private static ForecastPoint[] ToModel(Google.Protobuf.Collections.RepeatedField<V1.ForecastPoint> forecast)
    {
        if (forecast.Count == 0) return [];
        var points = new ForecastPoint[forecast.Count];
        for (var i = 0; i < points.Length; i++) points[i] = new ForecastPoint(forecast[i].Time.ToDateTimeOffset(), forecast[i].Megawatts);
        return points;
    }
}
