namespace Scheduler.Cluster.Tests.Infrastructure;

using Scheduler.Host.Hosting;

internal static class Ports
{
    /// <summary>Loopback ports free right now.</summary>
    public static int[] Free(int count) => LoopbackPorts.Free(count);
}
