namespace Scheduler.Api.Hosting;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Scheduler.Api.Security;

/// <summary>
/// The one way a process serving the API gets its token keys: the co-hosted silo and the gateway both call
/// <see cref="AddSchedulerCredentials"/>, so they validate tokens alike.
/// </summary>
public static class SchedulerCredentialsExtensions
{
    /// <summary>
    /// Reads section <c>Scheduler:Auth</c> and validates it now (a bad key stops the start with a message naming it), then
    /// registers the options and the <see cref="SchedulerCredentials"/> the API's front door checks tokens with.
    /// </summary>
    /// <param name="developmentKey">
    /// Called when no key is configured in development mode: the co-hosted silo's generated key. Null: keys are required
    /// in every mode, and <paramref name="whyKeysAreRequired"/> says why in the start-up error.
    /// </param>
    /// <returns>The validated options, for the caller's development-mode extras.</returns>
    public static SchedulerAuthOptions AddSchedulerCredentials(this IHostApplicationBuilder builder, Func<SigningKeyOptions>? developmentKey,
        string? whyKeysAreRequired = null)
    {
        var auth = builder.Configuration.GetSection(SchedulerAuthOptions.Section).Get<SchedulerAuthOptions>() ?? new();
        var errors = auth.Validate().ToList();
        if (developmentKey is null && auth.SigningKeys.Count == 0 && auth.Mode != AuthMode.Required)
            errors.Add($"{SchedulerAuthOptions.Section}:SigningKeys are required{(whyKeysAreRequired is null ? "" : ": " + whyKeysAreRequired)}");
        if (errors.Count > 0) throw new OptionsValidationException(SchedulerAuthOptions.Section, typeof(SchedulerAuthOptions), errors);

        IReadOnlyList<SigningKeyOptions> keys = auth.SigningKeys.Count > 0 ? auth.SigningKeys : [developmentKey!()];
        builder.Services.AddSingleton(Options.Create(auth));
        builder.Services.AddSingleton(new SchedulerCredentials(keys, auth.Issuer, auth.Audience, auth.ClockSkew));
        return auth;
    }
}
