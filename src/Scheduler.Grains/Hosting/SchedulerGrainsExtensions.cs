namespace Scheduler.Grains.Hosting;

using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Scheduler.Core.Policy;
using Scheduler.Core.Telemetry;

public static class SchedulerGrainsExtensions
{
    /// <summary>
    /// Registers the scheduler's grains, their options (sections <c>Scheduler</c>, <c>Scheduler:Policy</c>,
    /// <c>Scheduler:Telemetry</c>, validated at start), the serializers, and the fleet clock.
    /// </summary>
    public static ISiloBuilder AddSchedulerGrains(this ISiloBuilder silo, IConfiguration configuration)
    {
        var services = silo.Services;
        services.AddSerializer(s => s.AddSchedulerSerializers());
        services.AddOptions<SchedulerOptions>().Bind(configuration.GetSection(SchedulerOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SchedulerOptions>, SchedulerOptionsValidator>();
        services.AddOptions<PolicyOptions>().Bind(configuration.GetSection("Scheduler:Policy")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PolicyOptions>>(new CoreOptionsValidator<PolicyOptions>("Scheduler:Policy", o => o.Validate()));
        services.AddOptions<GenerationRulesOptions>().Bind(configuration.GetSection("Scheduler:Telemetry")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GenerationRulesOptions>>(new CoreOptionsValidator<GenerationRulesOptions>("Scheduler:Telemetry", o => o.Validate()));
        services.AddHostedService<FleetClock>();
        services.AddMetrics();
        services.AddSingleton<Scheduler.Grains.Diagnostics.SchedulerMetrics>();
        // Shared with this process's telemetry ingest (the gRPC API registers it only where no silo did).
        services.TryAddSingleton(sp => new TelemetryHold(sp.GetRequiredService<IOptions<SchedulerOptions>>().Value.TelemetryHoldLimit, TimeProvider.System));
        // Traces follow calls across grains, within traces being recorded (GrainCallTracing).
        services.TryAddSingleton(DistributedContextPropagator.Current);
        silo.AddOutgoingGrainCallFilter<GrainCallTracing>();
        silo.AddIncomingGrainCallFilter<GrainCallTracing>();
        silo.AddIncomingGrainCallFilter<CoreExceptionFilter>();
        // Live operation runs on the system clock unless the host registered another (demo speed-up, replay).
        services.TryAddSingleton(SchedulerClock.System);
        return silo;
    }

    /// <summary>Adapts the core's option validation (a list of errors) to the options framework.</summary>
    private sealed class CoreOptionsValidator<T>(string section, Func<T, IReadOnlyList<string>> validate) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var errors = validate(options);
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors.Select(e => $"{section}:{e}"));
        }
    }
}
