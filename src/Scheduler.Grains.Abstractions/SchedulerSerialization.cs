namespace Scheduler.Grains;

using Orleans.Serialization;

/// <summary>Serializer registration shared by silos and clients.</summary>
public static class SchedulerSerialization
{
    /// <summary>
    /// The pure core carries no Orleans attributes, so its types travel as JSON. Everything else uses Orleans'
    /// generated serializers.
    /// </summary>
    public static ISerializerBuilder AddSchedulerSerializers(this ISerializerBuilder builder) =>
        builder.AddJsonSerializer(isSupported: IsCoreType);

    /// <summary>Core model types; core exceptions are left to Orleans' exception codec, which keeps their type and message.</summary>
    public static bool IsCoreType(Type type) =>
        type.Namespace is { } ns && (ns == "Scheduler.Core" || ns.StartsWith("Scheduler.Core.", StringComparison.Ordinal))
        && !typeof(Exception).IsAssignableFrom(type);
}
