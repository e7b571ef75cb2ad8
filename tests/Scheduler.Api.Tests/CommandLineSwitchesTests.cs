namespace Scheduler.Api.Tests;

using Scheduler.Api.Hosting;
using Scheduler.Host.Hosting;

public class CommandLineSwitchesTests
{
    [Fact]
    public void SwitchesAndFlags_BecomeConfigurationKeys_AndEverythingElsePassesThrough()
    {
        var args = SchedulerHostOptions.NormaliseArgs(["--grpc-port", "5100", "--http-port=5101", "--replay", "--Scheduler:AutoTick=false", "--tls-port", "5443"]);

        Assert.Equal(
            ["--Scheduler:Host:GrpcPort=5100", "--Scheduler:Host:HttpPort=5101", "--Scheduler:Host:Replay=true", "--Scheduler:Host:Demo=false",
             "--Scheduler:AutoTick=false", "--Scheduler:Tls:Port=5443"],
            args);
    }

    [Fact]
    public void ASwitchWithoutItsValue_IsAnErrorNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => CommandLineSwitches.Normalise(["--grpc-port"], SchedulerHostOptions.Switches));

        Assert.Contains("--grpc-port needs a value", ex.Message);
    }
}
