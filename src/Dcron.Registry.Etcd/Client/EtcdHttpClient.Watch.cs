using System.Text;
using System.Text.Json;

namespace DistributedCron.Registry.Etcd.Client;

internal sealed partial class EtcdHttpClient
{
    /// <summary>
    /// gRPC metadata through the gateway: <c>hasleader=true</c> makes the member end the stream when it loses its
    /// leader, so a watch never sits silently on a member cut off from the cluster.
    /// </summary>
    private static readonly KeyValuePair<string, string>[] WatchHeaders = [new("Grpc-Metadata-hasleader", "true")];

    public async Task<IEtcdWatchStream> WatchAsync(WatchCreateRequest request, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var body = JsonSerializer.SerializeToUtf8Bytes(new WatchRequest { CreateRequest = request }, EtcdJsonContext.Default.WatchRequest);
        return await WithFailoverAsync<IEtcdWatchStream>("v3/watch", async (index, attemptCt) =>
        {
            var (response, token) = await SendAsync(index, "v3/watch", body, HttpCompletionOption.ResponseHeadersRead, attemptCt, WatchHeaders)
                .ConfigureAwait(false);
            WatchStream? stream = null;
            var handedOver = false;
            try
            {
                if (!response.IsSuccessStatusCode)
                {
                    var bytes = await response.Content.ReadAsByteArrayAsync(attemptCt).ConfigureAwait(false);
                    return Attempt<IEtcdWatchStream>.Fail(Classify(index, "v3/watch", response.StatusCode, bytes), token);
                }

                var content = await response.Content.ReadAsStreamAsync(attemptCt).ConfigureAwait(false);
                stream = new WatchStream(this, index, response, new StreamReader(content, Encoding.UTF8, false, 16 * 1024));
                var line = await stream.Reader.ReadLineAsync(attemptCt).ConfigureAwait(false);
                if (line is null)
                {
                    return Attempt<IEtcdWatchStream>.Fail(Failure.Retry("watch stream ended before etcd confirmed it"), token);
                }

                var message = ParseWatchLine(index, line);
                if (message.Error is { } error)
                {
                    return Attempt<IEtcdWatchStream>.Fail(
                        ClassifyError(index, "v3/watch", error.GrpcCode, error.Message ?? "watch failed", error.HttpCode), token);
                }

                var created = message.Result ?? throw new RegistryException($"etcd at {_names[index]} opened a watch with an empty message: {line}");
                if (created.Canceled && created.CompactRevision == 0)
                {
                    return Attempt<IEtcdWatchStream>.Fail(
                        ClassifyError(index, "v3/watch", -1, created.CancelReason ?? "watch cancelled at creation", 200), token);
                }

                stream.Created = created;
                handedOver = true;
                return Attempt<IEtcdWatchStream>.Ok(stream);
            }
            finally
            {
                if (!handedOver)
                {
                    if (stream is not null)
                    {
                        await stream.DisposeAsync().ConfigureAwait(false);
                    }
                    else
                    {
                        response.Dispose();
                    }
                }
            }
        }, ct).ConfigureAwait(false);
    }

    private StreamMessage<WatchResponse> ParseWatchLine(int index, string line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, EtcdJsonContext.Default.StreamMessageWatchResponse)
                ?? throw new RegistryException($"etcd at {_names[index]} sent an empty watch message.");
        }
        catch (JsonException ex)
        {
            throw new RegistryException($"etcd at {_names[index]} sent a watch message that is not the expected JSON: {Preview(Encoding.UTF8.GetBytes(line))}", ex);
        }
    }

    /// <summary>One open watch: one JSON message per line of the chunked response.</summary>
    private sealed class WatchStream(EtcdHttpClient owner, int index, HttpResponseMessage response, StreamReader reader) : IEtcdWatchStream
    {
        private int _disposed;

        public StreamReader Reader { get; } = reader;

        public string Endpoint => owner._names[index];

        public WatchResponse Created { get; set; } = new();

        public async ValueTask<WatchResponse> ReadAsync(CancellationToken ct)
        {
            string? line;
            try
            {
                line = await Reader.ReadLineAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or ObjectDisposedException or OperationCanceledException)
            {
                throw new RegistryUnavailableException($"The watch stream from etcd at {Endpoint} broke: {ex.Message}", ex);
            }

            if (line is null)
            {
                throw new RegistryUnavailableException($"The watch stream from etcd at {Endpoint} was closed by the server.");
            }

            var message = owner.ParseWatchLine(index, line);
            if (message.Error is { } error)
            {
                var failure = owner.ClassifyError(index, "v3/watch", error.GrpcCode, error.Message ?? "watch failed", error.HttpCode);
                throw failure.Kind == FailureKind.Final
                    ? failure.Exception!
                    : new RegistryUnavailableException($"The watch stream from etcd at {Endpoint} ended: {failure.Message}");
            }

            return message.Result ?? throw new RegistryException($"etcd at {Endpoint} sent an empty watch message.");
        }

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Reader.Dispose();
                response.Dispose();
            }

            return ValueTask.CompletedTask;
        }
    }
}
