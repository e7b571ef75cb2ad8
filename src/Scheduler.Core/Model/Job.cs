namespace Scheduler.Core.Model;

/// <summary>What a tenant asked for. Immutable once accepted.</summary>
/// <param name="Id">Job id.</param>
/// <param name="TenantId">Owning tenant.</param>
/// <param name="Gpus">GPUs the job needs while it runs (gang: all or nothing).</param>
/// <param name="WorkGpuHours">Total work, GPU-hours at full speed.</param>
/// <param name="Arrival">When the job was submitted.</param>
/// <param name="Deadline">When all work must be done, if any.</param>
/// <param name="Interruptible">May be paused (checkpoint and stop) and resumed later.</param>
/// <param name="Relocatable">May move between sites (checkpoint, transfer, restore).</param>
/// <param name="CheckpointGigabytes">Size of the state moved on a relocation, GB.</param>
/// <param name="AllowedSites">Sites the job may run at; empty means any.</param>
/// <param name="TokensPerGpuHour">Tokens the job produces per GPU-hour, for token accounting; null when not a token workload.</param>
/// <param name="Workload">What a site agent runs for the job; null: nothing to run (the clock executor's model only).</param>
public sealed record JobSpec(
    string Id,
    string TenantId,
    int Gpus,
    double WorkGpuHours,
    DateTimeOffset Arrival,
    DateTimeOffset? Deadline,
    bool Interruptible,
    bool Relocatable,
    double CheckpointGigabytes,
    IReadOnlyList<string> AllowedSites,
    double? TokensPerGpuHour = null,
    Execution.WorkloadSpec? Workload = null)
{
    /// <summary>Hours the job needs at full speed.</summary>
    public double DurationHours => WorkGpuHours / Gpus;

    public bool AllowsSite(string siteId)
    {
        if (AllowedSites.Count == 0) return true;
        for (var i = 0; i < AllowedSites.Count; i++)
            if (string.Equals(AllowedSites[i], siteId, StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>Returns field-level errors (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Id)) errors.Add("id: must not be empty");
        if (string.IsNullOrWhiteSpace(TenantId)) errors.Add("tenant_id: must not be empty");
        if (Gpus <= 0) errors.Add("gpus: must be > 0");
        if (!(WorkGpuHours > 0) || !double.IsFinite(WorkGpuHours)) errors.Add("work_gpu_hours: must be > 0 and finite");
        if (Deadline is { } d && d <= Arrival) errors.Add("deadline: must be after arrival");
        if (!(CheckpointGigabytes >= 0) || !double.IsFinite(CheckpointGigabytes)) errors.Add("checkpoint_gigabytes: must be >= 0 and finite");
        if (TokensPerGpuHour is { } t && (!(t >= 0) || !double.IsFinite(t))) errors.Add("tokens_per_gpu_hour: must be >= 0 and finite");
        return errors;
    }
}
