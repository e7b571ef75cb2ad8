namespace Scheduler.Api.Services;

using System.Security.Cryptography;
using System.Text;

/// <summary>
/// Job ids. With a request id the job id is derived from (tenant, request id), so a retried create lands on the
/// same job grain and is idempotent without any lookup table; without one, the id is random.
/// </summary>
internal static class JobIds
{
    public static string For(string tenant, string requestId)
    {
        if (requestId.Length == 0) return "job-" + Guid.NewGuid().ToString("N")[..20];
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(tenant + "\n" + requestId));
        return "job-" + Convert.ToHexStringLower(hash)[..20];
    }
}
