using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Serving.Worker.Batching;
using Serving.Worker.Errors;

namespace Serving.Worker.Transport;

/// <summary>
/// One API worker's connection to this runner worker: reads frames, starts calls (many at once,
/// told apart by id), writes their replies as they finish, answers pings, and at a drain tells the
/// client to go away and closes once its calls are answered.
/// </summary>
internal sealed class RunnerSession
{
    private readonly ConnectionContext _connection;
    private readonly RunnerEndpointService _service;
    private readonly PipeFrameWriter _writer;
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, CancellationTokenSource> _calls = [];
    private bool _draining;
    private bool _closed;

    public RunnerSession(ConnectionContext connection, RunnerEndpointService service)
    {
        _connection = connection;
        _service = service;
        _writer = new PipeFrameWriter(connection.Transport.Output);
    }

    public async Task RunAsync()
    {
        var input = _connection.Transport.Input;
        using var closing = _connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested
            .UnsafeRegister(static s => ((RunnerSession)s!).BeginDrain(), this);
        try
        {
            if (!await HelloAsync(input).ConfigureAwait(false))
                return;
            await ReadCallsAsync(input).ConfigureAwait(false);
        }
        catch (ProtocolViolationException ex)
        {
            Refuse(ex.Message);
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or ConnectionAbortedException or OperationCanceledException)
        {
            // The API worker went away.
        }
        finally
        {
            Close();
            await _writer.FlushAsync().ConfigureAwait(false);
            _writer.Complete();
        }
    }

    /// <summary>The first frame must be a Hello of our version carrying the secret (Tcp endpoints).</summary>
    private async Task<bool> HelloAsync(PipeReader input)
    {
        var helloTimeout = TimeSpan.FromMilliseconds(_service.Tuning.RunnerHelloTimeoutMs);
        using var timeout = new CancellationTokenSource(helloTimeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                Refuse($"no hello within {helloTimeout.TotalSeconds:0.#} s");
                return false;
            }
            var buffer = result.Buffer;
            // A hello is small: never buffer more than a little for it.
            if (RunnerFrames.TryRead(ref buffer, 4096, out var frame))
            {
                var accepted = Welcome(frame);
                input.AdvanceTo(buffer.Start);
                return accepted;
            }
            if (result.IsCompleted)
                return false;
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private bool Welcome(in Frame frame)
    {
        if (frame.Type != FrameType.Hello || frame.Payload.Length < 2)
        {
            Refuse("the first frame must be a hello");
            return false;
        }
        var payload = frame.Payload.ToArray();
        var version = BinaryPrimitives.ReadUInt16LittleEndian(payload);
        if (version != RunnerFrames.Version)
        {
            Refuse($"protocol version {version} is not supported (this runner speaks {RunnerFrames.Version})");
            return false;
        }
        if (_service.RequiredSecret is { } secret && !SecretCheck.Matches(payload.AsSpan(2), secret))
        {
            Refuse("missing or wrong secret");
            return false;
        }
        _writer.Write(_service, static (w, s) => RunnerFrames.WriteWelcome(w, s.MaxPayload, s.WorkerName));
        return true;
    }

    private async Task ReadCallsAsync(PipeReader input)
    {
        while (true)
        {
            var result = await input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            _writer.Defer();
            try
            {
                while (RunnerFrames.TryRead(ref buffer, _service.MaxPayload, out var frame))
                    Handle(frame);
            }
            finally
            {
                _writer.Resume();
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            // Draining, the connection stays open until the client closes it (it does once its calls are
            // answered, having seen GoAway) or Kestrel's stop ends it at the drain's end: a call that
            // crossed the GoAway is answered Stopping — not run, safe to send again — instead of being
            // lost with a connection closed under it.
            if (result.IsCompleted)
                return;
        }
    }

    private void Handle(in Frame frame)
    {
        switch (frame.Type)
        {
            case FrameType.Call:
            {
                var call = RunnerFrames.ReadCall(frame.Payload);
                _service.CountCall();
                if (Volatile.Read(ref _draining))
                {
                    Reply(frame.Id, ItemResult.Error(ItemStatus.Stopping, $"runner '{_service.Runner.Name}' worker {_service.WorkerName} is stopping"));
                    return;
                }
                var target = _service.Find(call.ApiIndex, call.MethodUtf8);
                if (target is null)
                {
                    Reply(frame.Id, ItemResult.Error(ItemStatus.UnknownMethod,
                        $"runner '{_service.Runner.Name}' has no method '{System.Text.Encoding.UTF8.GetString(call.MethodUtf8.ToArray())}'"));
                    return;
                }
                target.Start(this, frame.Id, call);
                return;
            }
            case FrameType.Cancel:
            {
                CancellationTokenSource? cancellation;
                lock (_lock)
                    _calls.TryGetValue(frame.Id, out cancellation);
                cancellation?.Cancel();
                return;
            }
            case FrameType.Ping:
                _writer.Write((frame.Id, _service.Serving && !_draining), static (w, s) => RunnerFrames.WritePong(w, s.Item1, s.Item2));
                return;
            default:
                throw new ProtocolViolationException($"unexpected frame type {(byte)frame.Type}");
        }
    }

    /// <summary>
    /// Registers call <paramref name="id"/> so a Cancel frame, its deadline or the connection's end can
    /// cancel it; every call begun is ended with <see cref="EndCall"/>.
    /// </summary>
    public CancellationTokenSource BeginCall(uint id, uint timeoutMs)
    {
        var cancellation = new CancellationTokenSource();
        lock (_lock)
        {
            if (_closed)
                cancellation.Cancel();
            else
                _calls[id] = cancellation;
        }
        if (timeoutMs > 0)
            cancellation.CancelAfter(TimeSpan.FromMilliseconds(timeoutMs));
        return cancellation;
    }

    /// <summary>Replies to call <paramref name="id"/> and forgets it; a failure goes to this worker's log first.</summary>
    public void EndCall(uint id, in ItemResult result, string requestId, uint retryAfterMs = 0)
    {
        CancellationTokenSource? cancellation;
        lock (_lock)
            _calls.Remove(id, out cancellation);
        if (result.Status == ItemStatus.Failed)
            ProblemLog.Write(_service.Log, Problems.RunnerFailed, requestId, result.Message ?? "", result.Exception);
        if (result.Status == ItemStatus.Ok && _service.MaxOutput is { } max && result.Output.Length > max)
        {
            var text = $"runner '{_service.Runner.Name}': an output of {result.Output.Length} bytes exceeds the message limit of {max} bytes (maxMessageBytes)";
            ProblemLog.Write(_service.Log, Problems.MessageTooLarge, requestId, text, null);
            Reply(id, ItemResult.Error(ItemStatus.TooLarge, text));
        }
        else
        {
            Reply(id, result, retryAfterMs);
        }
        cancellation?.Dispose();
    }

    private void Reply(uint id, in ItemResult result, uint retryAfterMs = 0) =>
        _writer.Write((id, result, retryAfterMs), static (w, s) => RunnerFrames.WriteReply(w, s.id, s.result, s.retryAfterMs));

    /// <summary>Kestrel is stopping: GoAway tells the client to put no new calls on this connection and to close it once those in flight are answered.</summary>
    private void BeginDrain()
    {
        lock (_lock)
        {
            if (_draining || _closed)
                return;
            _draining = true;
        }
        _writer.Write(0u, static (w, _) => RunnerFrames.WriteEmpty(w, FrameType.GoAway, 0));
    }

    /// <summary>Tells the client why, and closes (the reason also goes to this worker's log).</summary>
    private void Refuse(string reason)
    {
        _service.Log.LogWarning("runner connection from {Remote} closed: {Reason}", _connection.RemoteEndPoint?.ToString() ?? "a local client", reason);
        _writer.Write(reason, static (w, r) => RunnerFrames.WriteError(w, r));
    }

    /// <summary>The connection ends: calls still running are cancelled (nobody waits for their answers).</summary>
    private void Close()
    {
        CancellationTokenSource[] running;
        lock (_lock)
        {
            _closed = true;
            running = [.. _calls.Values];
            _calls.Clear();
        }
        foreach (var cancellation in running)
        {
            try
            {
                cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
