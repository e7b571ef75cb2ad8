namespace Scheduler.Host.Hosting;

using System.Net;
using System.Net.Sockets;

/// <summary>Free loopback ports, for hosts started in-process or as child processes (replay, tests, load tool).</summary>
public static class LoopbackPorts
{
    /// <summary>Loopback ports free right now: bound together (so they differ), read, released.</summary>
    public static int[] Free(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
