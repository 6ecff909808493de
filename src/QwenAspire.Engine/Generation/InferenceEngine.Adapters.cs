using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace QwenAspire.Engine.Generation;

// Runtime adapters: request threads post commands; the engine thread runs them between steps, so the
// runner never loads or frees weights during a forward.
public sealed partial class InferenceEngine
{
    /// <summary>A load (<see cref="Folder"/> set) or an unload (<see cref="Entry"/> set) waiting for the engine thread.</summary>
    private sealed class AdapterCommand(string name, string? folder, AdapterEntry? entry, CancellationToken cancellationToken)
    {
        public string Name { get; } = name;
        public string? Folder { get; } = folder;
        public AdapterEntry? Entry { get; } = entry;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly Channel<AdapterCommand> _commands =
        Channel.CreateUnbounded<AdapterCommand>(new UnboundedChannelOptions { SingleReader = true });
    /// <summary>Unloads whose adapter still has requests in flight (engine thread only).</summary>
    private readonly List<AdapterCommand> _pendingUnloads = [];

    public IReadOnlyCollection<string> AdapterNames => _adapters.Names;

    public Task LoadAdapterAsync(string name, string folder, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (string.Equals(name, _options.ModelName, StringComparison.Ordinal))
            throw new ArgumentException($"'{name}' is the base model's name.", nameof(name));
        if (!_adapters.TryReserve(name)) throw new ArgumentException($"An adapter named '{name}' is already loaded or loading.", nameof(name));
        var command = new AdapterCommand(name, folder, null, cancellationToken);
        if (!_commands.Writer.TryWrite(command))
        {
            _adapters.CancelReservation(name);
            throw new ObjectDisposedException(nameof(InferenceEngine));
        }
        // Not WaitAsync(token): once the engine thread runs the load, the caller learns how it ended.
        return command.Done.Task;
    }

    public Task UnloadAdapterAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var entry = _adapters.Find(name) ?? throw new KeyNotFoundException($"No adapter named '{name}' is loaded; loaded: [{string.Join(", ", _adapters.Names)}].");
        if (entry.Slot == 0)
            throw new InvalidOperationException($"Adapter '{name}' is merged into the model's weights and cannot be unloaded.");
        if (_adapters.Remove(name) is not { } removed)
            throw new KeyNotFoundException($"No adapter named '{name}' is loaded.");
        var command = new AdapterCommand(name, null, removed, CancellationToken.None);
        if (!_commands.Writer.TryWrite(command)) throw new ObjectDisposedException(nameof(InferenceEngine));
        // The name is gone already; the caller may stop waiting for the weights to be freed.
        return command.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Runs the queued commands and the unloads whose requests have all finished (between steps).</summary>
    private void RunAdapterCommands()
    {
        while (_commands.Reader.TryRead(out var command))
        {
            if (command.Entry is null) Load(command);
            else _pendingUnloads.Add(command);
        }
        for (var i = _pendingUnloads.Count - 1; i >= 0; i--)
        {
            var command = _pendingUnloads[i];
            if (!_adapters.IsIdle(command.Entry!)) continue;
            _pendingUnloads.RemoveAt(i);
            try
            {
                _runner.UnloadAdapter(command.Entry!.Slot);
                _logger.LogInformation("Unloaded adapter {Adapter} (slot {Slot})", command.Name, command.Entry.Slot);
                command.Done.TrySetResult();
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Freeing adapter {Adapter} failed", command.Name);
                command.Done.TrySetException(ex);
            }
        }
    }

    private void Load(AdapterCommand command)
    {
        if (command.CancellationToken.IsCancellationRequested)
        {
            _adapters.CancelReservation(command.Name);
            command.Done.TrySetCanceled(command.CancellationToken);
            return;
        }
        try
        {
            var slot = _runner.LoadAdapter(command.Name, command.Folder!);
            var entry = _adapters.Add(command.Name, slot);
            _logger.LogInformation("Loaded adapter {Adapter} from {Folder} (slot {Slot}, id {Id})", command.Name, command.Folder, slot, entry.Id);
            command.Done.TrySetResult();
        }
        catch (Exception ex)
        {
            _adapters.CancelReservation(command.Name);
            command.Done.TrySetException(ex);
        }
    }

    /// <summary>The loop is exiting: nothing runs any more, so idle unloads go through and the rest are refused.</summary>
    private void ShutDownAdapterCommands()
    {
        _commands.Writer.TryComplete();
        while (_commands.Reader.TryRead(out var command))
        {
            if (command.Entry is not null)
            {
                _pendingUnloads.Add(command);
                continue;
            }
            _adapters.CancelReservation(command.Name);
            command.Done.TrySetException(new ObjectDisposedException(nameof(InferenceEngine)));
        }
        try
        {
            RunAdapterCommands();
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Adapter commands failed at shutdown");
        }
        foreach (var command in _pendingUnloads) command.Done.TrySetException(new ObjectDisposedException(nameof(InferenceEngine)));
        _pendingUnloads.Clear();
    }
}
