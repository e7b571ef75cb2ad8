namespace Scheduler.Grains.Tests;

using Scheduler.Grains.Hosting;

/// <summary>The scheduler's options refuse a bad value at start, naming its key and what it was.</summary>
public class SchedulerOptionsTests
{
    public static TheoryData<string, Action<SchedulerOptions>> BadValues => new()
    {
        { "Scheduler:TickInterval", o => o.TickInterval = TimeSpan.Zero },
        { "Scheduler:PlantStaleAfter", o => o.PlantStaleAfter = TimeSpan.FromSeconds(-1) },
        { "Scheduler:DefaultOutsideCelsius", o => o.DefaultOutsideCelsius = double.NaN },
        { "Scheduler:ProgressPersistInterval", o => o.ProgressPersistInterval = TimeSpan.FromSeconds(-1) },
        { "Scheduler:ProgressForwardInterval", o => o.ProgressForwardInterval = TimeSpan.FromSeconds(-1) },
        { "Scheduler:TelemetryHoldLimit", o => o.TelemetryHoldLimit = TimeSpan.FromMilliseconds(-1) },
        { "Scheduler:TelemetryHoldLimit", o => o.TelemetryHoldLimit = TimeSpan.FromSeconds(2) },
        { "Scheduler:JobHistoryLimit", o => o.JobHistoryLimit = 9 },
        { "Scheduler:AgentReconnectGrace", o => o.AgentReconnectGrace = TimeSpan.FromSeconds(-1) },
        { "Scheduler:SupplyChangeFraction", o => o.SupplyChangeFraction = 0 },
        { "Scheduler:JobCatalogPageSize", o => o.JobCatalogPageSize = 0 },
        { "Scheduler:TracedCandidates", o => o.TracedCandidates = 0 },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void ABadValue_IsRefused_ByItsKey(string key, Action<SchedulerOptions> spoil)
    {
        var options = new SchedulerOptions();
        spoil(options);

        var result = new SchedulerOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(key + " must", Assert.Single(result.Failures!));
    }

    [Fact]
    public void TheDefaults_AreValid() => Assert.True(new SchedulerOptionsValidator().Validate(null, new SchedulerOptions()).Succeeded);
}
