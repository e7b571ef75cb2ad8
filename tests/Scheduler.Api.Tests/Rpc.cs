namespace Scheduler.Api.Tests;

using Google.Rpc;
using Grpc.Core;

internal static class Rpc
{
    /// <summary>Runs a call that must fail; returns its status code and the fields named by its google.rpc.BadRequest.</summary>
    public static async Task<(StatusCode Code, string[] Fields)> FailsAsync(Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        var fields = ex.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations.Select(v => v.Field).ToArray() ?? [];
        return (ex.StatusCode, fields);
    }
}
