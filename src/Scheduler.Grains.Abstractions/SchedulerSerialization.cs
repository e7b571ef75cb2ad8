namespace Scheduler.Grains;

using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Cloning;
using Orleans.Serialization.Serializers;

/// <summary>Serializer registration shared by silos and clients.</summary>
public static class SchedulerSerialization
{
    /// <summary>
    /// The pure core carries no Orleans attributes, so its types travel as JSON. Everything else uses Orleans'
    /// generated serializers. Core records are not copied at all on calls within a silo (<see cref="CoreRecordCopier"/>).
    /// </summary>
    public static ISerializerBuilder AddSchedulerSerializers(this ISerializerBuilder builder)
    {
        builder.Services.AddSingleton<IGeneralizedCopier, CoreRecordCopier>();
        return builder.AddJsonSerializer(isSerializable: IsCoreType, isCopyable: type => IsCoreType(type) && !IsCoreRecord(type),
            options => options.Configure(o => o.SerializerOptions = CoreJsonOptions));
    }

    /// <summary>
    /// The JSON options of core types: the defaults, less computed properties. One instance for the process, so its
    /// metadata (built by reflection, with emitted accessors) is built once, not once per host.
    /// </summary>
    /// <remarks>
    /// A computed property (<c>JobState.IsTerminal</c>, <c>EnergyLedger.GreenShare</c>, …) was written with every
    /// value and ignored when read: about a fifth of the bytes of a job record and of each job in a catalogue page,
    /// all formatted on every write. Data written with them still reads (unknown properties are skipped), and data
    /// written without them reads in older versions too, which never read them.
    /// </remarks>
    public static JsonSerializerOptions CoreJsonOptions { get; } = new() { TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { WithoutComputedProperties } } };

    /// <summary>
    /// Drops the properties that hold no state of their own: no setter, no backing field (so not a get-only auto
    /// property), and no constructor parameter of the same name (which would read it back). Nothing that is read
    /// back is dropped, so every value reads back as before.
    /// </summary>
    private static void WithoutComputedProperties(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object || !IsCoreType(info.Type)) return;
        var parameters = info.Type.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
            .SelectMany(c => c.GetParameters()).Select(p => p.Name).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        for (var i = info.Properties.Count - 1; i >= 0; i--)
        {
            var property = info.Properties[i];
            if (property.Set is not null || property.AttributeProvider is not PropertyInfo declared || parameters.Contains(declared.Name)) continue;
            var backingField = declared.DeclaringType?.GetField($"<{declared.Name}>k__BackingField", BindingFlags.NonPublic | BindingFlags.Instance);
            if (backingField is null) info.Properties.RemoveAt(i);
        }
    }

    /// <summary>Core model types; core exceptions are left to Orleans' exception codec, which keeps their type and message.</summary>
    public static bool IsCoreType(Type type) =>
        type.Namespace is { } ns && (ns == "Scheduler.Core" || ns.StartsWith("Scheduler.Core.", StringComparison.Ordinal))
        && !typeof(Exception).IsAssignableFrom(type);

    /// <summary>A core record class (the compiler gives records a <c>&lt;Clone&gt;$</c> method): an immutable value.</summary>
    public static bool IsCoreRecord(Type type) => IsCoreType(type) && type.IsClass && type.GetMethod("<Clone>$") is not null;
}

/// <summary>
/// Passes core records between grains of one silo as they are. The core builds them once and never changes them (it
/// makes new ones with <c>with</c>), so a copy buys nothing; and the JSON codec would copy by writing and reading JSON,
/// for every job record, decision and assignment on every call. This is what Orleans' <c>[Immutable]</c> does for the
/// grain layer's own types, which the pure core cannot carry.
/// </summary>
internal sealed class CoreRecordCopier : IGeneralizedCopier
{
    public object? DeepCopy(object? input, CopyContext context) => input;

    public bool IsSupportedType(Type type) => SchedulerSerialization.IsCoreRecord(type);
}
