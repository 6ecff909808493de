using Microsoft.Extensions.Options;
using QwenAspire.Engine.Model;
using QwenAspire.InferenceApi.Options;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// Loads and unloads LoRA adapters at run time (vLLM's <c>/v1/load_lora_adapter</c>, <c>/v1/unload_lora_adapter</c>).
/// The engine does the work between steps; this checks the switch, the name and the path first, so a refused
/// request never reaches it, and a bad adapter is reported by the engine without touching running requests.
/// </summary>
public sealed partial class RuntimeLoraServing(
    ModelRegistry host, IOptions<RuntimeLoraOptions> options, IHostApplicationLifetime lifetime, ILogger<RuntimeLoraServing> logger)
{
    public const int MaxNameLength = 256;

    private readonly LoraPathPolicy _paths = new(options.Value.LoraRoots);

    /// <summary>The 403 both routes answer while <c>engine.allow_runtime_lora</c> is off, else null.</summary>
    public ApiError? Disabled() => options.Value.AllowRuntimeLora ? null : ApiError.RuntimeLoraDisabled();

    public async Task<IResult> LoadAsync(LoadLoraAdapterRequest request)
    {
        if (Disabled() is { } off) return off.ToResult();
        if (string.IsNullOrEmpty(request.LoraPath)) return ApiError.MissingField("lora_path").ToResult();
        if (CheckName(request.LoraName) is { } badName) return badName.ToResult();
        if (!host.TryGetModels(out var models, out var notReady)) return notReady!.ToResult();
        string name = request.LoraName!;
        if (models.Names.Contains(name, StringComparer.Ordinal) || name == models.BaseName)
            return NameTaken(name).ToResult();
        if (_paths.Resolve(request.LoraPath, out var pathError) is not { } folder)
            return ApiError.BadRequest(pathError!, "lora_path", "invalid_lora_path").ToResult();

        try
        {
            // The server's stopping token, not the client's: a load the engine has begun is not undone by a disconnect.
            await models.Engine.LoadAdapterAsync(name, folder, lifetime.ApplicationStopping);
        }
        catch (ModelFormatException ex)
        {
            LogLoadRefused(logger, name, folder, ex.Message);
            return ApiError.BadRequest($"The folder '{request.LoraPath}' is not a LoRA adapter this model can serve: {ex.Message}",
                "lora_path", "invalid_adapter").ToResult();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogLoadRefused(logger, name, folder, ex.Message);
            return ApiError.BadRequest($"The folder '{request.LoraPath}' could not be read: {ex.Message}", "lora_path", "invalid_adapter").ToResult();
        }
        catch (ArgumentException ex) when (ex.ParamName == "name")
        {
            return NameTaken(name).ToResult(); // another load of the same name won the race
        }
        catch (Exception ex) when (IsShutdown(ex))
        {
            return ApiError.ShuttingDown().ToResult();
        }
        LogLoaded(logger, name, folder);
        return Results.Text($"Success: LoRA adapter '{name}' added successfully.", "text/plain");
    }

    public async Task<IResult> UnloadAsync(UnloadLoraAdapterRequest request)
    {
        if (Disabled() is { } off) return off.ToResult();
        if (string.IsNullOrEmpty(request.LoraName)) return ApiError.MissingField("lora_name").ToResult();
        if (!host.TryGetModels(out var models, out var notReady)) return notReady!.ToResult();
        string name = request.LoraName;
        if (name == models.BaseName && models.BaseServed)
            return ApiError.BadRequest($"'{name}' is the base model; only LoRA adapters can be unloaded.", "lora_name").ToResult();
        if (name == models.MergedAdapter)
            return ApiError.BadRequest($"The lora adapter '{name}' is merged into the weights (model.merge_single_adapter) and cannot be unloaded.",
                "lora_name").ToResult();

        try
        {
            // Completes once the adapter's running requests have finished and its weights are freed; new requests
            // for it are refused as soon as the engine has taken the name away, before that.
            await models.Engine.UnloadAdapterAsync(name, lifetime.ApplicationStopping);
        }
        catch (KeyNotFoundException)
        {
            return ApiError.LoraAdapterNotFound(name, models.AdapterNames.Where(a => a != models.MergedAdapter)).ToResult();
        }
        catch (Exception ex) when (IsShutdown(ex))
        {
            return ApiError.ShuttingDown().ToResult();
        }
        LogUnloaded(logger, name);
        return Results.Text($"Success: LoRA adapter '{name}' removed successfully.", "text/plain");
    }

    /// <summary>
    /// The engine closed (disposed) or the server's stopping token fired while the command was queued or waited
    /// on: the same 503 every other route answers during the drain, not a 500.
    /// </summary>
    private bool IsShutdown(Exception ex) =>
        ex is ObjectDisposedException
        || ex is OperationCanceledException && (lifetime.ApplicationStopping.IsCancellationRequested || host.ShuttingDown);

    private static ApiError? CheckName(string? name)
    {
        if (string.IsNullOrEmpty(name)) return ApiError.MissingField("lora_name");
        if (name.Trim() != name) return ApiError.BadRequest("'lora_name' has leading or trailing spaces.", "lora_name");
        if (name.Length > MaxNameLength) return ApiError.BadRequest($"'lora_name' is longer than {MaxNameLength} characters.", "lora_name");
        if (name.Any(char.IsControl)) return ApiError.BadRequest("'lora_name' contains a control character.", "lora_name");
        return null;
    }

    private static ApiError NameTaken(string name) =>
        ApiError.BadRequest($"The lora adapter '{name}' has already been loaded (or is the name of a served model); unload it first.",
            "lora_name", "lora_name_taken");

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded LoRA adapter '{Name}' from {Folder} at run time.")]
    private static partial void LogLoaded(ILogger logger, string name, string folder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused to load LoRA adapter '{Name}' from {Folder}: {Reason}")]
    private static partial void LogLoadRefused(ILogger logger, string name, string folder, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Unloaded LoRA adapter '{Name}'.")]
    private static partial void LogUnloaded(ILogger logger, string name);
}
