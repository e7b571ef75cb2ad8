namespace Scheduler.Api.Security;

/// <summary>How callers authenticate. Section <c>Scheduler:Auth</c>.</summary>
public sealed class SchedulerAuthOptions
{
    public const string Section = "Scheduler:Auth";

    /// <summary>
    /// <c>Development</c>: without configured keys the host generates a key in its data directory, prints a token per
    /// role and writes an operator token to the user's credential file. <c>Required</c>: the host refuses to start
    /// without <see cref="SigningKeys"/>, prints no token and writes no file. Default: Development.
    /// </summary>
    public AuthMode Mode { get; set; } = AuthMode.Development;

    /// <summary>
    /// HMAC-SHA256 keys, base64, at least 32 bytes each. The first signs the tokens this host mints; all of them
    /// validate, so a key is rotated by putting the new one first and removing the old one once its tokens expired.
    /// Default: none.
    /// </summary>
    public List<SigningKeyOptions> SigningKeys { get; set; } = [];

    /// <summary>Expected <c>iss</c> claim. Default: green-scheduler.</summary>
    public string Issuer { get; set; } = "green-scheduler";

    /// <summary>Expected <c>aud</c> claim. Default: green-scheduler.</summary>
    public string Audience { get; set; } = "green-scheduler";

    /// <summary>Tolerated clock difference when checking a token's lifetime. Default: 1 minute.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Lifetime of the tokens the host prints and writes in development mode. Default: 30 days.</summary>
    public TimeSpan DevelopmentTokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Where development mode writes the operator token; empty writes none. Default: the user-level file of
    /// <c>Scheduler.Api.Client.CredentialFile.DefaultPath</c> (<c>~/.config/green-scheduler/credentials.json</c>).
    /// </summary>
    public string? CredentialFile { get; set; }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Enum.IsDefined(Mode)) errors.Add($"{Section}:Mode must be Development or Required, was {Mode}");
        for (var i = 0; i < SigningKeys.Count; i++)
        {
            var key = SigningKeys[i];
            if (string.IsNullOrWhiteSpace(key.Id)) errors.Add($"{Section}:SigningKeys:{i}:Id must not be empty");
            if (key.Bytes() is not { Length: >= SigningKeyOptions.MinBytes })
                errors.Add($"{Section}:SigningKeys:{i}:Key must be base64 of at least {SigningKeyOptions.MinBytes} bytes");
        }
        if (SigningKeys.Select(k => k.Id).Distinct(StringComparer.Ordinal).Count() != SigningKeys.Count) errors.Add($"{Section}:SigningKeys: ids must differ");
        if (Mode == AuthMode.Required && SigningKeys.Count == 0)
            errors.Add($"{Section}:Mode is Required but no {Section}:SigningKeys are configured (generate one with: openssl rand -base64 32)");
        if (string.IsNullOrWhiteSpace(Issuer)) errors.Add($"{Section}:Issuer must not be empty");
        if (string.IsNullOrWhiteSpace(Audience)) errors.Add($"{Section}:Audience must not be empty");
        if (ClockSkew < TimeSpan.Zero || ClockSkew > TimeSpan.FromHours(1)) errors.Add($"{Section}:ClockSkew must be within [0, 1 h], was {ClockSkew}");
        if (DevelopmentTokenLifetime <= TimeSpan.Zero) errors.Add($"{Section}:DevelopmentTokenLifetime must be > 0");
        return errors;
    }
}

public enum AuthMode
{
    Development,
    Required,
}

/// <summary>One signing key: an id (the token's <c>kid</c>) and the key, base64.</summary>
public sealed class SigningKeyOptions
{
    public const int MinBytes = 32;

    public string Id { get; set; } = "";

    public string Key { get; set; } = "";

    public byte[]? Bytes()
    {
        try { return Convert.FromBase64String(Key); }
        catch (FormatException) { return null; }
    }
}
