namespace Scheduler.Cluster.Tests.Infrastructure;

using System.Net;
using System.Net.Sockets;

internal static class Ports
{
    /// <summary>Loopback ports free right now (bound together, read, released).</summary>
    public static int[] Free(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
