namespace QwenAspire.AppHost;

/// <summary>How the AppHost hands model settings to the InferenceApi: its ASP.NET-style configuration keys.</summary>
internal static class InferenceApiResource
{
    public const string DevelopmentApiKey = "sk-qwen3-1.7b-local-dev-key-12345";

    /// <summary>
    /// The API's own configuration keys, in environment form (section__key; the server binds them
    /// case-insensitively: <c>model.path</c>, <c>model.served_model_name</c>, <c>model.adapters.NAME</c>).
    /// Keys: the server accepts the union of <c>server.api_keys</c>, <c>OPENAI_API_KEY</c> and <c>dify.api_key</c>
    /// (no precedence; the public default key only when none is set). The AppHost writes <c>server.api_keys[0]</c>,
    /// the key the API's own <c>--api-key</c> switch sets, rather than <c>OPENAI_API_KEY</c>, a name OpenAI client
    /// libraries in the same environment read as their outgoing key.
    /// </summary>
    public const string ModelPathVariable = "MODEL__PATH";
    public const string ServedModelNameVariable = "MODEL__SERVED_MODEL_NAME";
    public const string AdapterVariablePrefix = "MODEL__ADAPTERS__";
    public const string ApiKeyVariable = "SERVER__API_KEYS__0";

    /// <summary>
    /// A parameter read from <c>Parameters:NAME</c> when the AppHost runs, else <paramref name="fallback"/>; never
    /// published as a manifest default (the deployment asks for every value).
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddParameter(IDistributedApplicationBuilder builder, string name, string fallback, bool secret = false) =>
        builder.AddParameter(name, () => builder.Configuration[$"Parameters:{name}"] ?? fallback, publishValueAsDefault: false, secret: secret);

    public static IResourceBuilder<ProjectResource> WithApiKey(this IResourceBuilder<ProjectResource> api, IResourceBuilder<ParameterResource> apiKey) =>
        api.WithEnvironment(ApiKeyVariable, apiKey);

    /// <summary>
    /// <c>Parameters:lora-adapters</c> = <c>NAME=DIR;NAME2=DIR2</c> names the adapters; each becomes its own
    /// parameter <c>lora-NAME</c> (its folder), so a deployment manifest asks for every folder separately.
    /// </summary>
    public static IReadOnlyList<(string Name, IResourceBuilder<ParameterResource> Folder)> AddAdapterParameters(IDistributedApplicationBuilder builder)
    {
        var spec = builder.Configuration["Parameters:lora-adapters"];
        var adapters = new List<(string, IResourceBuilder<ParameterResource>)>();
        if (string.IsNullOrWhiteSpace(spec))
            return adapters;
        foreach (var item in spec.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = item.IndexOf('=');
            if (eq <= 0 || eq == item.Length - 1)
                throw new InvalidOperationException($"Parameters:lora-adapters: '{item}' is not NAME=DIR (separate adapters with ';').");
            var (name, folder) = (item[..eq].Trim(), item[(eq + 1)..].Trim());
            if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                throw new InvalidOperationException($"Parameters:lora-adapters: adapter name '{name}' may hold only letters, digits, '-', '_' and '.'.");
            adapters.Add((name, AddParameter(builder, $"lora-{name}", folder)
                .WithDescription($"PEFT LoRA adapter folder served as model '{name}'.")));
        }
        return adapters;
    }

    /// <summary>
    /// Model settings as environment (<c>MODEL__PATH</c>, <c>MODEL__SERVED_MODEL_NAME</c>, <c>MODEL__ADAPTERS__NAME</c>).
    /// When running, empty values are left out so the API falls back to its defaults (demo model, folder name);
    /// a published manifest carries every parameter for the deployment to fill in.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithModel(this IResourceBuilder<ProjectResource> api,
        IResourceBuilder<ParameterResource> modelPath, IResourceBuilder<ParameterResource> servedModelName,
        IReadOnlyList<(string Name, IResourceBuilder<ParameterResource> Folder)> adapters)
    {
        List<(string Variable, ParameterResource Parameter)> settings =
        [
            (ModelPathVariable, modelPath.Resource),
            (ServedModelNameVariable, servedModelName.Resource),
            .. adapters.Select(a => (AdapterVariablePrefix + a.Name, a.Folder.Resource)),
        ];
        return api.WithEnvironment(async context =>
        {
            foreach (var (variable, parameter) in settings)
            {
                if (context.ExecutionContext.IsPublishMode)
                {
                    context.EnvironmentVariables[variable] = parameter;
                    continue;
                }
                var value = await parameter.GetValueAsync(context.CancellationToken);
                if (!string.IsNullOrWhiteSpace(value))
                    context.EnvironmentVariables[variable] = value;
            }
        });
    }
}
