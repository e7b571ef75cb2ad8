namespace Scheduler.Api.Tests;

using System.Net;
using System.Net.Sockets;
using Scheduler.Host.Hosting;

public class LoopbackPortsTests
{
    [Fact]
    public void Ports_AreDistinct_BelowTheEphemeralRange_NeverRepeated_AndBindable()
    {
        var first = LoopbackPorts.Free(50);
        var second = LoopbackPorts.Free(50);

        var all = first.Concat(second).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        var ephemeralStart = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0]);
        Assert.All(all, port => Assert.InRange(port, 10_000, ephemeralStart - 1));
        var listener = new TcpListener(IPAddress.Loopback, first[0]);
        listener.Start();
        listener.Stop();
    }
}
