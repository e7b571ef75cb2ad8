namespace Scheduler.Grains;

using System.Diagnostics;
using System.Diagnostics.Metrics;

/// <summary>
/// The scheduler's trace source and meter, and the names of its span attributes (documented in docs/operations.md).
/// Plain System.Diagnostics: exporting them is the host's business.
/// </summary>
public static class SchedulerDiagnostics
{
    /// <summary>
    /// Spans a sampler must always keep: each job's root and every decision. They are rare next to telemetry, and
    /// they are what operators read.
    /// </summary>
    public static bool IsAlwaysSampled(string spanName) =>
        spanName.StartsWith(JobSpan, StringComparison.Ordinal) || spanName.StartsWith(DecisionSpan, StringComparison.Ordinal)
        || spanName == TelemetrySampleSpan; // started only for the samples TelemetryTracing picked: the choice is made there

    /// <summary>
    /// Spans that may start a trace: the scheduler's own work (a tick, a prompt round, a telemetry sample) and each
    /// job's root. The others (a site's step) are only ever part of their caller's trace.
    /// </summary>
    public static bool MayStartTrace(string spanName) => spanName is TickSpan or PromptRoundSpan or TelemetrySampleSpan or JobSpan;

    /// <summary>
    /// A job's root or a decision: kept for what it says itself. What it calls is sampled at the ratio like any other
    /// trace's calls (unlike a telemetry sample's, whose trace was picked as a whole).
    /// </summary>
    public static bool IsKeptForItself(Activity span) =>
        span.Source == Source && (span.OperationName == JobSpan || span.OperationName == DecisionSpan);

    public const string SourceName = "Scheduler";

    public static readonly ActivitySource Source = new(SourceName);
    public static readonly Meter Meter = new(SourceName);

    /// <summary>Span names.</summary>
    public const string JobSpan = "scheduler.job";
    public const string DecisionSpan = "scheduler.decision";
    public const string TickSpan = "scheduler.tick";
    public const string PromptRoundSpan = "scheduler.round.prompt";
    public const string SiteStepSpan = "scheduler.site.step";
    public const string TelemetrySampleSpan = "scheduler.telemetry.sample";

    /// <summary>Event names on a decision span: a scored candidate site; the sites one filter rejected.</summary>
    public const string CandidateEvent = "scheduler.candidate", RejectedCandidatesEvent = "scheduler.candidates.rejected";

    /// <summary>Attribute names, all under <c>scheduler.*</c>.</summary>
    public static class Tags
    {
        public const string JobId = "scheduler.job.id";
        public const string Tenant = "scheduler.tenant";
        public const string Region = "scheduler.region";
        public const string Trigger = "scheduler.round.trigger";
        /// <summary>The jobs a round decided on: every live job in a tick, the waiting ones to decide in a prompt round.</summary>
        public const string RoundJobs = "scheduler.round.jobs";
        public const string Site = "scheduler.site";
        public const string Plant = "scheduler.plant";
        public const string DecisionKind = "scheduler.decision.kind";
        public const string Reason = "scheduler.decision.reason";
        public const string Detail = "scheduler.decision.detail";
        public const string FromSite = "scheduler.decision.from_site";
        public const string ToSite = "scheduler.decision.to_site";
        public const string ExpectedGreenGain = "scheduler.decision.expected_green_gain_mwh";
        public const string RelocationGigabytes = "scheduler.relocation.gb";
        public const string RelocationSeconds = "scheduler.relocation.transfer_s";
        public const string RelocationMegawattHours = "scheduler.relocation.mwh";
        public const string CandidateSurplus = "scheduler.candidate.surplus_mw";
        public const string CandidateRejectedBy = "scheduler.candidate.rejected_by";
        public const string CandidateRejection = "scheduler.candidate.rejection";
        public const string CandidateScore = "scheduler.candidate.score";
        public const string CandidateScores = "scheduler.candidate.scores";
        public const string CandidateCount = "scheduler.candidate.count";
        public const string Sites = "scheduler.sites";
        public const string ModeFrom = "scheduler.power.mode.from";
        public const string ModeTo = "scheduler.power.mode.to";
    }
}

/// <summary>
/// Which telemetry samples get a trace of their own, chosen before any span exists. Telemetry is the one high-volume
/// path: a span started only to be dropped by the sampler still costs an activity, its ids and two changes of the
/// current activity per sample, and its grain calls then start activities of their own. Deciding first, a sample not
/// picked costs none of that. The host registers it with its sampling ratio; without tracing, no sample is picked.
/// </summary>
public sealed class TelemetryTracing(double sampleRatio)
{
    public static readonly TelemetryTracing Off = new(0);

    /// <summary>Share of samples traced, in [0, 1].</summary>
    public double SampleRatio { get; } = sampleRatio is >= 0 and <= 1 ? sampleRatio : throw new ArgumentOutOfRangeException(nameof(sampleRatio));

    public bool PickSample() =>
        SampleRatio > 0 && SchedulerDiagnostics.Source.HasListeners() && (SampleRatio >= 1 || Random.Shared.NextDouble() < SampleRatio);

    /// <summary>
    /// Starts the activity the untraced samples of a stream run under: unrecorded and local, so the grain calls they
    /// make start no spans (a sampler drops a span whose local parent is unrecorded without creating it).
    /// </summary>
    public static Activity StartUntraced()
    {
        var untraced = new Activity("scheduler.telemetry.untraced");
        untraced.SetParentId(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None);
        return untraced.Start();
    }
}
