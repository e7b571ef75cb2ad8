namespace Scheduler.Grains;

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
        return builder.AddJsonSerializer(isSerializable: IsCoreType, isCopyable: type => IsCoreType(type) && !IsCoreRecord(type));
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
