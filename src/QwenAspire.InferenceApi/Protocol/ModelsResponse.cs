namespace QwenAspire.InferenceApi.Protocol;

public sealed record ModelList(IReadOnlyList<ModelCard> Data)
{
    public string Object { get; init; } = "list";
}

/// <summary>One served model: the base checkpoint or a LoRA adapter (whose <c>parent</c> is the base).</summary>
public sealed record ModelCard(string Id, long Created, string Root, string? Parent, int MaxModelLen)
{
    public string Object { get; init; } = "model";
    public string OwnedBy { get; init; } = "qwen-aspire";
}
