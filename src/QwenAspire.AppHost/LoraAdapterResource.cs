namespace QwenAspire.AppHost;

/// <summary>
/// A LoRA adapter the InferenceApi serves, shown in the dashboard as a child of the API. Made at run time from
/// <c>GET /v1/models</c> (adapters come and go with the load/unload commands), so it is not part of the app model
/// and never reaches a deployment manifest.
/// </summary>
internal sealed class LoraAdapterResource(string name, string adapterName, ProjectResource parent)
    : Resource(name), IResourceWithParent<ProjectResource>
{
    public const string ResourceType = "LoRA adapter";
    public const string UnloadCommand = "unload-lora-adapter";

    /// <summary>The served model name clients pass as <c>model</c>.</summary>
    public string AdapterName { get; } = adapterName;

    public ProjectResource Parent { get; } = parent;

    /// <summary><c>inferenceapi-lora-NAME</c>, with characters a resource name may not hold turned into '-'.</summary>
    public static string ResourceNameFor(string apiName, string adapterName)
    {
        var chars = adapterName.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-').ToArray();
        var tail = string.Join('-', new string(chars).Split('-', StringSplitOptions.RemoveEmptyEntries));
        return $"{apiName}-lora-{(tail.Length == 0 ? "adapter" : tail)}";
    }
}
