namespace Scheduler.Grains.Tests;

using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Cloning;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;

/// <summary>
/// Core records cross grains of one silo uncopied (<c>CoreRecordCopier</c>), which is safe only while they are
/// immutable; across silos and into storage they still travel as JSON.
/// </summary>
public class SerializationTests
{
    private static readonly IServiceProvider Services = new ServiceCollection().AddSerializer(s => s.AddSchedulerSerializers()).BuildServiceProvider();

    private static JobState SomeJob() =>
        JobState.Queued(new JobSpec("job-1", "acme", 8, 120, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(2), true, true, 40, ["a", "b"]));

    [Fact]
    public void ACoreRecord_IsSharedNotCopied_WithinASilo()
    {
        var job = SomeJob();

        var copy = Services.GetRequiredService<DeepCopier<JobState>>().Copy(job);

        Assert.Same(job, copy);
    }

    [Fact]
    public void AGrainTypeHoldingCoreRecords_IsCopied_ButTheRecordsInsideAreShared()
    {
        var state = new SiteGrainState { Spec = new SiteSpec("a", "r", 64, 1.0, CoolingModel.Constant(1.0), 0, BatterySpec.None, 5, 0.5, 0.8) };

        var copy = Services.GetRequiredService<DeepCopier<SiteGrainState>>().Copy(state);

        Assert.NotSame(state, copy);
        Assert.Same(state.Spec, copy.Spec);
    }

    [Fact]
    public void ACoreRecord_StillRoundTripsThroughTheSerializer()
    {
        var job = SomeJob() with { SiteId = "a", Epoch = 3 };
        var serializer = Services.GetRequiredService<Serializer>();

        var back = serializer.Deserialize<JobState>(serializer.SerializeToArray(job));

        Assert.NotNull(back);
        Assert.NotSame(job, back);
        Assert.Equal(job.Spec.AllowedSites, back.Spec.AllowedSites);
        Assert.Equal(job with { Spec = back.Spec }, back);
    }

    /// <summary>
    /// The invariant the copier relies on, over every core record: no property can be set after construction, and no
    /// property is a mutable collection. A new record that breaks it fails here, naming the property.
    /// </summary>
    [Fact]
    public void EveryCoreRecord_IsImmutable()
    {
        var records = typeof(JobState).Assembly.GetTypes().Where(SchedulerSerialization.IsCoreRecord).ToList();
        var mutable = new List<string>();
        foreach (var type in records)
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var setter = property.SetMethod;
                var initOnly = setter is null || setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit));
                if (!initOnly) mutable.Add($"{type.Name}.{property.Name} has a setter");
                if (IsMutableCollection(property.PropertyType)) mutable.Add($"{type.Name}.{property.Name} is a {property.PropertyType.Name}");
            }

        Assert.Contains(typeof(JobState), records);
        Assert.Contains(typeof(Decision), records);
        Assert.Contains(typeof(SiteSpec), records);
        Assert.Empty(mutable);
    }

    private static bool IsMutableCollection(Type type) =>
        type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type) && !type.IsInterface
        || type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(IList<>) || d == typeof(ICollection<>) || d == typeof(IDictionary<,>) || d == typeof(ISet<>));

    [Fact]
    public void CoreJson_LeavesOutComputedProperties_AndKeepsEveryStoredOne()
    {
        var job = SomeJob() with { SiteId = "a", Epoch = 3, CheckpointReference = "ck" };
        var json = JsonSerializer.Serialize(job, SchedulerSerialization.CoreJsonOptions);

        foreach (var computed in new[] { "\"IsTerminal\"", "\"HoldsGpus\"", "\"RemainingHours\"", "\"DurationHours\"" })
            Assert.DoesNotContain(computed, json);
        var back = JsonSerializer.Deserialize<JobState>(json, SchedulerSerialization.CoreJsonOptions)!;
        Assert.Equal(job.Spec.AllowedSites, back.Spec.AllowedSites);
        Assert.Equal(job with { Spec = back.Spec }, back);

        var ledger = new Scheduler.Core.Accounting.EnergyLedger(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        var ledgerJson = JsonSerializer.Serialize(ledger, SchedulerSerialization.CoreJsonOptions);
        Assert.DoesNotContain("GreenShare", ledgerJson);
        Assert.Equal(ledger, JsonSerializer.Deserialize<Scheduler.Core.Accounting.EnergyLedger>(ledgerJson, SchedulerSerialization.CoreJsonOptions));
    }

    [Fact]
    public void CoreJson_WrittenWithComputedProperties_StillReads()
    {
        // What versions before this one stored: every public property, computed ones included.
        var job = SomeJob() with { SiteId = "a", Epoch = 3 };
        var old = JsonSerializer.Serialize(job);
        Assert.Contains("\"IsTerminal\"", old);

        var back = JsonSerializer.Deserialize<JobState>(old, SchedulerSerialization.CoreJsonOptions)!;

        Assert.Equal(job with { Spec = back.Spec }, back);
    }

    [Fact]
    public void EveryCoreType_ReadsBackTheSameAfterDroppingComputedProperties()
    {
        // A dropped property is never one a constructor reads or a setter or field holds; check that over every core
        // object type the options describe, so that a new type with state only in a computed-looking property fails here.
        var types = typeof(JobState).Assembly.GetTypes().Where(t => SchedulerSerialization.IsCoreType(t) && t is { IsPublic: true, IsAbstract: false, IsGenericTypeDefinition: false } && !t.IsEnum).ToList();
        Assert.NotEmpty(types);
        foreach (var type in types)
        {
            var info = SchedulerSerialization.CoreJsonOptions.GetTypeInfo(type);
            if (info.Kind != System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object) continue;
            var kept = info.Properties.Select(p => p.Name).ToHashSet();
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && !kept.Contains(p.Name)))
            {
                if (property.GetCustomAttribute<System.Text.Json.Serialization.JsonIgnoreAttribute>() is not null) continue;
                Assert.True(property.SetMethod is null, $"{type.Name}.{property.Name} has a setter but was dropped");
                Assert.Null(type.GetField($"<{property.Name}>k__BackingField", BindingFlags.NonPublic | BindingFlags.Instance));
            }
        }
    }
}
