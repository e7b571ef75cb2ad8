namespace Scheduler.Host.Hosting;

using System.Net;
using System.Net.Sockets;

/// <summary>Free loopback ports, for hosts started in-process or as child processes (replay, tests, load tool).</summary>
/// <remarks>
/// Ports come from below the kernel's ephemeral range: a port the OS hands out for "port 0" is, once released,
/// just as likely to be taken next by some outgoing connection (a gRPC client, a silo-to-silo link) before the
/// host binds it, which is how a test once failed with "address already in use". Below the range only listeners
/// compete; a port is checked free by binding it, and never handed out twice by one process.
/// </remarks>
public static class LoopbackPorts
{
    private const int LowestPort = 10_000;
    private static readonly HashSet<int> HandedOut = [];
    private static readonly Lock Gate = new();

    /// <summary>Distinct loopback ports, each free right now and not handed out before by this process.</summary>
    public static int[] Free(int count)
    {
        var highestPort = EphemeralRangeStart() - 1;
        if (highestPort - LowestPort < 1_000)
        {
            return FromTheKernel(count);
        }

        var ports = new int[count];
        lock (Gate)
        {
            for (var i = 0; i < count; i++)
            {
                ports[i] = NextFree(highestPort);
            }
        }

        return ports;
    }

    private static int NextFree(int highestPort)
    {
        for (var attempt = 0; attempt < 1_000; attempt++)
        {
            var port = Random.Shared.Next(LowestPort, highestPort + 1);
            if (!HandedOut.Contains(port) && CanBind(port))
            {
                HandedOut.Add(port);
                return port;
            }
        }

        throw new InvalidOperationException($"No free loopback port between {LowestPort} and {highestPort} after 1,000 attempts.");
    }

    private static bool CanBind(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>Where the kernel's ephemeral ports begin (Linux: /proc/sys/net/ipv4/ip_local_port_range; else the IANA 49152).</summary>
    private static int EphemeralRangeStart()
    {
        const string RangeFile = "/proc/sys/net/ipv4/ip_local_port_range";
        if (File.Exists(RangeFile)
            && int.TryParse(File.ReadAllText(RangeFile).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0], out var start))
        {
            return start;
        }

        return 49_152;
    }

    // Where no range below the ephemeral ports exists, the kernel's choice is the best left.
    private static int[] FromTheKernel(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
