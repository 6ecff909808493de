namespace QwenAspire.InferenceApi.Protocol;

public sealed record ModelList(IReadOnlyList<ModelCard> Data)
{
    public string Object { get; init; } = "list";
}

/// <summary>One served model: the base checkpoint or a LoRA adapter (whose <c>parent</c> is the base).</summary>
/// <remarks><c>parent</c> is always sent (null for the base model), as vLLM does; clients test for the key.</remarks>
public sealed record ModelCard(string Id, long Created, string Root,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Parent,
    int MaxModelLen)
{
    public string Object { get; init; } = "model";
    public string OwnedBy { get; init; } = "qwen-aspire";
}
