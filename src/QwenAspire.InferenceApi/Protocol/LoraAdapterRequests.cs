using System.Text.Json;
using System.Text.Json.Serialization;

namespace QwenAspire.InferenceApi.Protocol;

/// <summary>POST /v1/load_lora_adapter (vLLM's payload).</summary>
public sealed class LoadLoraAdapterRequest
{
    public string? LoraName { get; set; }
    public string? LoraPath { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>POST /v1/unload_lora_adapter (vLLM's payload; its <c>lora_int_id</c> has no meaning here).</summary>
public sealed class UnloadLoraAdapterRequest
{
    public string? LoraName { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
