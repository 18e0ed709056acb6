namespace DistributedCron.Testing.Consul;

/// <summary>
/// Faults a client test can inject: error answers (500 "No cluster leader", 429…), dropped connections, a forced
/// X-Consul-Index, <c>X-Consul-KnownLeader: false</c>, and the <c>rpc error making call: </c> prefix that client
/// agents put on errors forwarded from servers. Each one-shot fault applies to the next matching requests.
/// </summary>
public sealed class EmulatorFaults
{
    private readonly object _gate = new();
    private readonly List<Fault> _pending = new();

    /// <summary>Answer <c>X-Consul-KnownLeader: false</c> on reads (default true).</summary>
    public bool KnownLeader { get; set; } = true;

    /// <summary>Prefix error bodies with <c>rpc error making call: </c>, as a client agent does.</summary>
    public bool RpcErrorPrefix { get; set; }

    /// <summary>The next <paramref name="count"/> requests whose path starts with <paramref name="pathPrefix"/> get this answer instead.</summary>
    public void FailNext(int count, int status, string body, string pathPrefix = "/v1/", string? method = null) =>
        Add(new Fault(count, pathPrefix, method, status, body, FaultKind.Answer, null));

    /// <summary>The next <paramref name="count"/> matching requests are cut off without an answer (the connection is aborted).</summary>
    public void DropNext(int count, string pathPrefix = "/v1/", string? method = null) =>
        Add(new Fault(count, pathPrefix, method, 0, "", FaultKind.Drop, null));

    /// <summary>The next <paramref name="count"/> matching requests are carried out, then cut off before the answer (the client cannot know the outcome).</summary>
    public void LoseAnswerNext(int count, string pathPrefix = "/v1/", string? method = null) =>
        Add(new Fault(count, pathPrefix, method, 0, "", FaultKind.LoseAnswer, null));

    /// <summary>The next <paramref name="count"/> matching answers carry this X-Consul-Index (e.g. 0, or one lower than before).</summary>
    public void ForceIndexNext(int count, ulong index, string pathPrefix = "/v1/") =>
        Add(new Fault(count, pathPrefix, null, 0, "", FaultKind.Answer, index));

    /// <summary>Removes every pending fault.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _pending.Clear();
        }
    }

    /// <summary>Takes the first pending error, drop or lost-answer fault for a request.</summary>
    internal Fault? TakeFailure(string path, string method) => Take(path, f => f.ForcedIndex is null && (f.Method is null || f.Method == method));

    /// <summary>Takes the first pending forced index for <paramref name="path"/>.</summary>
    internal ulong? TakeForcedIndex(string path) => Take(path, f => f.ForcedIndex is not null)?.ForcedIndex;

    private void Add(Fault f)
    {
        if (f.Remaining <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(f), f.Remaining, "A fault must apply at least once.");
        }

        lock (_gate)
        {
            _pending.Add(f);
        }
    }

    private Fault? Take(string path, Func<Fault, bool> kind)
    {
        lock (_gate)
        {
            var f = _pending.FirstOrDefault(p => kind(p) && path.StartsWith(p.PathPrefix, StringComparison.Ordinal));
            if (f is null)
            {
                return null;
            }

            if (--f.Remaining == 0)
            {
                _pending.Remove(f);
            }

            return f;
        }
    }

    /// <summary>What a fault does.</summary>
    internal enum FaultKind
    {
        Answer,
        Drop,
        LoseAnswer,
    }

    /// <summary>One pending fault.</summary>
    internal sealed class Fault(int remaining, string pathPrefix, string? method, int status, string body, FaultKind kind, ulong? forcedIndex)
    {
        public int Remaining { get; set; } = remaining;

        public string PathPrefix { get; } = pathPrefix;

        public string? Method { get; } = method;

        public int Status { get; } = status;

        public string Body { get; } = body;

        public FaultKind Kind { get; } = kind;

        public ulong? ForcedIndex { get; } = forcedIndex;
    }
}
