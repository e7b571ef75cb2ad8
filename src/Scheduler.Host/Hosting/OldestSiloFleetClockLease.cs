namespace Scheduler.Host.Hosting;

using Scheduler.Grains.Hosting;

/// <summary>
/// The fleet clock's lease in a cluster: the oldest active silo (lowest generation, then lowest address) in this silo's
/// view of Orleans membership drives the tick, every other silo stays idle.
/// </summary>
/// <remarks>
/// Why membership rather than a reminder or a lease row in Redis: the tick can only make progress once membership has
/// declared a dead silo dead (until then the grains that lived on it cannot be reactivated elsewhere), and that same
/// event hands the lease to the next-oldest silo, so failover costs no more than Orleans' own failure detection and
/// needs no extra writes per tick. The oldest silo keeps the lease while new silos join, so scaling out does not move
/// it. In a partition two silos may briefly each see themselves as oldest; their ticks are then serialised by the
/// non-reentrant fleet and dispatcher grains, and a site ignores a step that does not move its time forward.
/// </remarks>
internal sealed partial class OldestSiloFleetClockLease(IClusterMembershipService membership, ILocalSiloDetails local,
    ILogger<OldestSiloFleetClockLease> logger) : IFleetClockLease
{
    private bool _held;

    public bool IsHeld
    {
        get
        {
            var snapshot = membership.CurrentSnapshot;
            SiloAddress? oldest = null;
            foreach (var member in snapshot.Members.Values)
            {
                if (member.Status != SiloStatus.Active) continue;
                if (oldest is null || IsOlder(member.SiloAddress, oldest)) oldest = member.SiloAddress;
            }
            var held = oldest is not null && oldest.Equals(local.SiloAddress);
            if (held != _held)
            {
                _held = held;
                if (held) LogAcquired(local.SiloAddress.ToString(), snapshot.Version.Value);
                else LogReleased(local.SiloAddress.ToString(), oldest?.ToString() ?? "none");
            }
            return held;
        }
    }

    private static bool IsOlder(SiloAddress a, SiloAddress b) =>
        a.Generation != b.Generation ? a.Generation < b.Generation : string.CompareOrdinal(a.ToString(), b.ToString()) < 0;

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} now drives the fleet clock (membership version {Version})")]
    private partial void LogAcquired(string silo, long version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} no longer drives the fleet clock; {Oldest} does")]
    private partial void LogReleased(string silo, string oldest);
}
