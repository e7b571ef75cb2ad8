namespace Scheduler.Api.Security;

using Grpc.AspNetCore.Server;
using Grpc.Core;

/// <summary>
/// A call's context with a server-side deadline: its cancellation token also fires after <c>timeout</c>, and its
/// <see cref="ServerCallContext.Deadline"/> is the earlier of the client's and the server's, so the error mapping
/// reports DEADLINE_EXCEEDED. The services pass this token to every grain call, so no unary call hangs forever.
/// </summary>
internal sealed class TimeLimitedCallContext : ServerCallContext, IDisposable
{
    private readonly ServerCallContext _inner;
    private readonly CancellationTokenSource _timeout;
    private readonly CancellationTokenSource _cancellation;
    private readonly DateTime _deadline;

    public TimeLimitedCallContext(ServerCallContext inner, TimeSpan timeout)
    {
        _inner = inner;
        var server = DateTime.UtcNow + timeout;
        _deadline = inner.Deadline < server ? inner.Deadline : server;
        _timeout = new CancellationTokenSource(timeout);
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(inner.CancellationToken, _timeout.Token);
        // Interceptors after this one (and GetHttpContext) find the HttpContext through the user state of a wrapped context.
        inner.UserState[HttpContextKey] = inner.GetHttpContext();
    }

    private const string HttpContextKey = "__HttpContext";

    protected override string MethodCore => _inner.Method;
    protected override string HostCore => _inner.Host;
    protected override string PeerCore => _inner.Peer;
    // The timer counts on a coarser clock than DateTime.UtcNow and may fire a little before the computed deadline:
    // once it has fired, the deadline has passed, so the error mapping reports DEADLINE_EXCEEDED and not CANCELLED.
    protected override DateTime DeadlineCore => _timeout.IsCancellationRequested && DateTime.UtcNow is var now && now < _deadline ? now : _deadline;
    protected override Metadata RequestHeadersCore => _inner.RequestHeaders;
    protected override CancellationToken CancellationTokenCore => _cancellation.Token;
    protected override Metadata ResponseTrailersCore => _inner.ResponseTrailers;
    protected override Status StatusCore { get => _inner.Status; set => _inner.Status = value; }
    protected override WriteOptions? WriteOptionsCore { get => _inner.WriteOptions; set => _inner.WriteOptions = value; }
    protected override AuthContext AuthContextCore => _inner.AuthContext;
    protected override IDictionary<object, object> UserStateCore => _inner.UserState;

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => _inner.CreatePropagationToken(options);

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => _inner.WriteResponseHeadersAsync(responseHeaders);

    public void Dispose()
    {
        _cancellation.Dispose();
        _timeout.Dispose();
    }
}
