namespace QwenAspire.Sdk;

/// <summary>Where and how to reach a QwenAspire InferenceApi (or any OpenAI-compatible endpoint).</summary>
public sealed class QwenClientOptions
{
    /// <summary>The key the server ships with when none is configured (see the InferenceApi docs).</summary>
    public const string DevelopmentApiKey = "sk-qwen3-1.7b-local-dev-key-12345";

    /// <summary>
    /// Base address of the server, with or without the trailing <c>/v1</c>
    /// (<c>http://localhost:8000</c>, <c>http://localhost:8000/v1</c>, or a service-discovery name such as
    /// <c>https+http://inferenceapi</c>).
    /// </summary>
    public Uri? Endpoint { get; set; }

    /// <summary>Sent as <c>Authorization: Bearer</c>; null sends no key.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Served model name. <see cref="Microsoft.Extensions.AI.ChatOptions.ModelId"/> wins per call; when both
    /// are unset the first model listed by <c>GET /v1/models</c> is used.
    /// </summary>
    public string? Model { get; set; }

    /// <summary>Whole-request timeout, streams included. Generation on a CPU can take minutes.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Ask the server to append a usage chunk to streams (<c>stream_options.include_usage</c>).</summary>
    public bool IncludeUsageInStreams { get; set; } = true;

    internal void Validate()
    {
        if (Endpoint is null)
            throw new InvalidOperationException($"{nameof(QwenClientOptions)}.{nameof(Endpoint)} is required (for example http://localhost:8000).");
        if (!Endpoint.IsAbsoluteUri)
            throw new InvalidOperationException($"{nameof(QwenClientOptions)}.{nameof(Endpoint)} must be an absolute URI, got '{Endpoint}'.");
        if (Timeout <= TimeSpan.Zero && Timeout != System.Threading.Timeout.InfiniteTimeSpan)
            throw new InvalidOperationException($"{nameof(QwenClientOptions)}.{nameof(Timeout)} must be positive, got {Timeout}.");
    }

    /// <summary>The endpoint normalised to end with <c>/v1/</c> so relative paths such as <c>chat/completions</c> resolve.</summary>
    internal Uri ApiBase
    {
        get
        {
            Validate();
            var text = Endpoint!.ToString().TrimEnd('/');
            if (!text.EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
                text += "/v1";
            return new Uri(text + "/");
        }
    }
}
