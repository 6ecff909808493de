using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace QwenAspire.AppHost;

/// <summary>
/// Turns the InferenceApi's own reports into dashboard state while the app runs: model load progress
/// (<c>GET /health/model</c>) as the API resource's state, each served LoRA adapter (<c>GET /v1/models</c>) as a
/// child resource with an Unload command, and the Load command on the API (vLLM's runtime adapter routes).
/// </summary>
/// <remarks>
/// The state text replaces DCP's "Running" only while the process runs and the model is not loaded yet, so
/// <c>WaitFor(inferenceapi)</c> also waits for the model; it goes back to "Running" once it serves. Aspire's health
/// monitoring starts at the first "Running" and is unaffected.
/// </remarks>
internal sealed class InferenceApiMonitor(ProjectResource api, ParameterResource apiKey, bool runtimeLora) : BackgroundService
{
    public const string LoadCommand = "load-lora-adapter";
    public const string LoadingPrefix = "Loading model";
    private const string ParentNameProperty = "resource.parentName"; // what the dashboard nests children by
    private static readonly TimeSpan LoadingPoll = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan ServingPoll = TimeSpan.FromSeconds(3);

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly ConcurrentDictionary<string, LoraAdapterResource> _adapters = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile bool _ready;
    private volatile string? _apiResourceId; // DCP's name for the running replica: what a child names as its parent

    /// <summary>Set by the host when it creates the service (the AppHost's service provider).</summary>
    public IServiceProvider Services { get; set; } = null!;

    private ResourceNotificationService Notifications => Services.GetRequiredService<ResourceNotificationService>();
    private ILogger Logger => Services.GetRequiredService<ResourceLoggerService>().GetLogger(api);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var running = await Notifications.WaitForResourceAsync(api.Name,
                    e => e.Snapshot.State?.Text is { } state && (state == KnownResourceStates.Running || IsOurs(state)), stoppingToken);
                _apiResourceId = running.ResourceId;
                await FollowAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or InferenceApiException or TaskCanceledException or InvalidOperationException)
            {
                // The process went away (stop, restart, crash): DCP reports that state; follow the next start.
                await LostAsync();
                await Task.Delay(LoadingPoll, stoppingToken);
            }
        }
    }

    /// <summary>One run of the process: loading progress until ready, then the served adapters until it stops.</summary>
    private async Task FollowAsync(CancellationToken ct)
    {
        var endpoint = BaseUri();
        // The process runs; until the API answers, its model is not loaded either (it loads after HTTP is up).
        if (!_ready) await PublishApiStateAsync(LoadingPrefix, KnownResourceStateStyles.Info, new("loading", null, "starting"));
        while (true)
        {
            var status = await new InferenceApiClient(_http).StatusAsync(endpoint, ct);
            if (status.State == "ready")
            {
                // Ready before publishing: the Load command's state is evaluated for the snapshot this publishes.
                if (!_ready)
                {
                    _ready = true;
                    await PublishApiStateAsync(KnownResourceStates.Running, KnownResourceStateStyles.Success, status);
                }
                await RefreshAdaptersAsync(ct);
                await Task.Delay(ServingPoll, ct);
                continue;
            }
            _ready = false;
            var (text, style) = status.State switch
            {
                "failed" => ("Model failed", KnownResourceStateStyles.Error),
                "shutting_down" => ("Stopping", KnownResourceStateStyles.Info),
                _ => (status.Progress is { } p ? $"{LoadingPrefix} {p:P0}" : LoadingPrefix, KnownResourceStateStyles.Info),
            };
            await PublishApiStateAsync(text, style, status);
            await Task.Delay(LoadingPoll, ct);
        }
    }

    private Uri BaseUri() => new(api.GetEndpoint("http").Url);

    /// <summary>Only over "Running" or our own loading texts: never hides a DCP state such as Exited or Finished.</summary>
    private Task PublishApiStateAsync(string text, string style, InferenceApiClient.ModelStatus status) =>
        Notifications.PublishUpdateAsync(api, s => s.State?.Text is { } current && (current == KnownResourceStates.Running || IsOurs(current))
            ? s with
            {
                State = new ResourceStateSnapshot(text, style),
                Properties = With(s.Properties, ("model.state", status.State), ("model.detail", status.Detail),
                    ("model.progress", status.Progress is { } p ? p.ToString("P0", System.Globalization.CultureInfo.InvariantCulture) : "")),
            }
            : s);

    private static bool IsOurs(string state) => state.StartsWith(LoadingPrefix, StringComparison.Ordinal) || state is "Model failed" or "Stopping";

    private static ImmutableArray<ResourcePropertySnapshot> With(ImmutableArray<ResourcePropertySnapshot> properties, params (string Name, object Value)[] values)
    {
        var names = values.Select(v => v.Name).ToHashSet();
        return [.. properties.Where(p => !names.Contains(p.Name)), .. values.Select(v => new ResourcePropertySnapshot(v.Name, v.Value))];
    }

    /// <summary>Every adapter the API serves becomes (or stays) a child; one it no longer serves shows "Unloaded", hidden.</summary>
    public async Task RefreshAdaptersAsync(CancellationToken ct)
    {
        await _refresh.WaitAsync(ct);
        try
        {
            var key = await apiKey.GetValueAsync(ct) ?? "";
            var models = await new InferenceApiClient(_http).ModelsAsync(BaseUri(), key, ct);
            var served = models.Where(m => m.Parent is not null).ToDictionary(m => m.Id, m => m.Parent!);
            string parentName = _apiResourceId ?? api.Name;
            foreach (var (name, baseModel) in served)
            {
                var child = _adapters.GetOrAdd(name, n => NewChild(n));
                await Notifications.PublishUpdateAsync(child, s => s with
                {
                    ResourceType = LoraAdapterResource.ResourceType,
                    State = new ResourceStateSnapshot("Serving", KnownResourceStateStyles.Success),
                    IsHidden = false,
                    Properties = With(s.Properties, (ParentNameProperty, parentName), ("lora.name", name), ("lora.base_model", baseModel)),
                });
            }
            foreach (var (name, child) in _adapters)
            {
                if (!served.ContainsKey(name))
                    await Notifications.PublishUpdateAsync(child, s => s.State?.Text == "Unloaded" ? s : s with
                    {
                        State = new ResourceStateSnapshot("Unloaded", KnownResourceStateStyles.Info),
                        IsHidden = true,
                    });
            }
        }
        finally
        {
            _refresh.Release();
        }
    }

    private async Task LostAsync()
    {
        _ready = false;
        foreach (var child in _adapters.Values)
            await Notifications.PublishUpdateAsync(child, s => s with { State = new ResourceStateSnapshot("Unloaded", KnownResourceStateStyles.Info), IsHidden = true });
    }

    private LoraAdapterResource NewChild(string adapterName)
    {
        string name = LoraAdapterResource.ResourceNameFor(api.Name, adapterName);
        for (int i = 2; _adapters.Values.Any(a => a.Name == name); i++)
            name = $"{LoraAdapterResource.ResourceNameFor(api.Name, adapterName)}-{i}";
        var child = new LoraAdapterResource(name, adapterName, api);
        child.Annotations.Add(new ResourceCommandAnnotation(LoraAdapterResource.UnloadCommand, "Unload adapter",
            updateState: c => c.ResourceSnapshot.State?.Text == "Serving" && runtimeLora ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
            executeCommand: c => UnloadAsync(child, c),
            displayDescription: "POST /v1/unload_lora_adapter: stops serving it once its running requests finish (needs engine.allow_runtime_lora).",
            parameter: null, confirmationMessage: $"Unload LoRA adapter '{adapterName}'?", iconName: "Delete", iconVariant: IconVariant.Regular, isHighlighted: false));
        return child;
    }

    public ResourceCommandState LoadCommandState(UpdateCommandStateContext context) =>
        !runtimeLora ? ResourceCommandState.Hidden
        : _ready && context.ResourceSnapshot.State?.Text == KnownResourceStates.Running ? ResourceCommandState.Enabled
        : ResourceCommandState.Disabled;

    /// <summary>The Load command: arguments <c>name</c> and <c>path</c> (a folder under <c>lora-roots</c>).</summary>
    public async Task<ExecuteCommandResult> LoadAsync(ExecuteCommandContext context)
    {
        var name = context.Arguments?.TryGetByName("name", out var n) == true ? n.Value?.Trim() : null;
        var path = context.Arguments?.TryGetByName("path", out var p) == true ? p.Value?.Trim() : null;
        if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(path))
            return CommandResults.Failure("Give the adapter's name and its folder (under the lora-roots parameter).");
        try
        {
            var key = await apiKey.GetValueAsync(context.CancellationToken) ?? "";
            await new InferenceApiClient(_http).LoadAdapterAsync(BaseUri(), key, name, path, context.CancellationToken);
            Logger.LogInformation("Loaded LoRA adapter {Adapter} from {Path}.", name, path);
            await RefreshAdaptersAsync(context.CancellationToken);
            return CommandResults.Success();
        }
        catch (Exception ex) when (ex is HttpRequestException or InferenceApiException)
        {
            return CommandResults.Failure(ex.Message);
        }
    }

    private async Task<ExecuteCommandResult> UnloadAsync(LoraAdapterResource child, ExecuteCommandContext context)
    {
        try
        {
            var key = await apiKey.GetValueAsync(context.CancellationToken) ?? "";
            await new InferenceApiClient(_http).UnloadAdapterAsync(BaseUri(), key, child.AdapterName, context.CancellationToken);
            Logger.LogInformation("Unloaded LoRA adapter {Adapter}.", child.AdapterName);
            await RefreshAdaptersAsync(context.CancellationToken);
            return CommandResults.Success();
        }
        catch (Exception ex) when (ex is HttpRequestException or InferenceApiException)
        {
            return CommandResults.Failure(ex.Message);
        }
    }

    public override void Dispose()
    {
        _http.Dispose();
        _refresh.Dispose();
        base.Dispose();
    }
}
