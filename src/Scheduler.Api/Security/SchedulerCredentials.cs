namespace Scheduler.Api.Security;

using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

/// <summary>
/// Mints and validates the scheduler's bearer tokens (JWT, HS256) with the configured signing keys. The one
/// mechanism every internal client uses too: the demo, the in-process replay host and the tests ask the host's
/// instance for a token; a separate process (a cluster test, a script) builds one from the same key with
/// <see cref="FromKey"/>.
/// </summary>
public sealed class SchedulerCredentials
{
    public const string RoleClaim = "role", TenantClaim = "tenant", PlantClaim = "plant", SiteClaim = "site";

    private readonly SymmetricSecurityKey[] _keys;
    private readonly TokenValidationParameters _validation;
    private readonly JsonWebTokenHandler _handler = new();

    /// <summary>Valid tokens seen, until they expire; cleared when full (bounded memory).</summary>
    private const int MaxRemembered = 10_000;
    private readonly ConcurrentDictionary<string, (CallerIdentity Caller, DateTime Expires)> _accepted = new(StringComparer.Ordinal);

    /// <param name="keys">Signing keys; the first signs, all validate.</param>
    public SchedulerCredentials(IReadOnlyList<SigningKeyOptions> keys, string issuer = "green-scheduler", string audience = "green-scheduler", TimeSpan? clockSkew = null)
    {
        if (keys.Count == 0) throw new ArgumentException("at least one signing key is needed", nameof(keys));
        _keys = [.. keys.Select(k => new SymmetricSecurityKey(k.Bytes() ?? throw new ArgumentException($"key '{k.Id}' is not base64", nameof(keys))) { KeyId = k.Id })];
        Issuer = issuer;
        Audience = audience;
        _validation = new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudience = audience,
            IssuerSigningKeys = _keys,
            // Only HMAC-SHA256: a token must not choose a weaker (or no) algorithm for itself.
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = clockSkew ?? TimeSpan.FromMinutes(1),
        };
    }

    public string Issuer { get; }

    public string Audience { get; }

    /// <summary>Credentials with one key, as another process holding the same configured key builds them.</summary>
    public static SchedulerCredentials FromKey(string base64Key, string keyId = "k1") => new([new SigningKeyOptions { Id = keyId, Key = base64Key }]);

    /// <summary>A new random 256-bit key, base64.</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>A token for <paramref name="caller"/>, valid for <paramref name="lifetime"/> (default: 1 day), signed with the first key.</summary>
    public string Mint(CallerIdentity caller, TimeSpan? lifetime = null)
    {
        var claims = new Dictionary<string, object> { [RoleClaim] = caller.Role };
        if (caller.Tenant is not null) claims[TenantClaim] = caller.Tenant;
        if (caller.Plant is not null) claims[PlantClaim] = caller.Plant;
        if (caller.Site is not null) claims[SiteClaim] = caller.Site;
        var now = DateTime.UtcNow;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Claims = claims,
            Subject = new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim(JwtRegisteredClaimNames.Sub, caller.Principal)]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + (lifetime ?? TimeSpan.FromDays(1)),
            SigningCredentials = new SigningCredentials(_keys[0], SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>An operator token: what the scheduler's own clients (demo, replay, load tool, tests) use.</summary>
    public string MintOperator(string principal, TimeSpan? lifetime = null) => Mint(CallerIdentity.Operator(principal), lifetime);

    /// <summary>The caller a token names, or why it is refused (a short reason safe to return to the caller).</summary>
    /// <remarks>
    /// A client sends the same token on every call: a valid one is remembered until it expires, so the signature is
    /// checked once rather than per call. Keys are read at start only, so a remembered token cannot outlive its key.
    /// </remarks>
    public async Task<(CallerIdentity? Caller, string? Error)> ValidateAsync(string token)
    {
        if (_accepted.TryGetValue(token, out var known) && known.Expires > DateTime.UtcNow) return (known.Caller, null);
        var (caller, error, expires) = await CheckAsync(token);
        if (caller is not null)
        {
            if (_accepted.Count >= MaxRemembered) _accepted.Clear(); // bounded: a flood of distinct valid tokens only costs re-checks
            _accepted[token] = (caller, expires);
        }
        return (caller, error);
    }

    private async Task<(CallerIdentity? Caller, string? Error, DateTime Expires)> CheckAsync(string token)
    {
        var result = await _handler.ValidateTokenAsync(token, _validation);
        if (!result.IsValid)
            return (null, result.Exception switch
            {
                SecurityTokenExpiredException => "the token has expired",
                SecurityTokenNotYetValidException => "the token is not valid yet",
                SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "the token's signature does not match this scheduler's keys",
                SecurityTokenInvalidIssuerException or SecurityTokenInvalidAudienceException => "the token was issued for another service (issuer or audience)",
                SecurityTokenInvalidAlgorithmException => "the token's algorithm is not HS256",
                _ => "the token is not a valid JWT for this scheduler",
            }, default);
        string? Claim(string name) => result.Claims.TryGetValue(name, out var v) && v is string s && s.Length > 0 ? s : null;
        var subject = Claim(JwtRegisteredClaimNames.Sub);
        var role = Claim(RoleClaim);
        if (subject is null) return (null, "the token has no 'sub' claim", default);
        var expires = result.SecurityToken.ValidTo;
        return role switch
        {
            Roles.Operator => (CallerIdentity.Operator(subject), null, expires),
            Roles.Tenant when Claim(TenantClaim) is { } tenant => (CallerIdentity.ForTenant(tenant, subject), null, expires),
            Roles.Plant when Claim(PlantClaim) is { } plant => (CallerIdentity.ForPlant(plant, subject), null, expires),
            Roles.Agent when Claim(SiteClaim) is { } site => (CallerIdentity.ForAgent(site, subject), null, expires),
            Roles.Tenant or Roles.Plant => (null, $"a {role} token needs a '{role}' claim", default),
            Roles.Agent => (null, $"an agent token needs a '{SiteClaim}' claim", default),
            _ => (null, $"the token's role must be one of {string.Join(", ", Roles.All)}", default),
        };
    }
}
