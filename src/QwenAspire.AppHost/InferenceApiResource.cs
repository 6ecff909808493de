namespace QwenAspire.AppHost;

/// <summary>How the AppHost hands model settings to the InferenceApi: its ASP.NET-style configuration keys.</summary>
internal static class InferenceApiResource
{
    public const string DevelopmentApiKey = "sk-qwen3-1.7b-local-dev-key-12345";

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
            adapters.Add((name, builder.AddParameter($"lora-{name}", folder, publishValueAsDefault: false)
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
            ("MODEL__PATH", modelPath.Resource),
            ("MODEL__SERVED_MODEL_NAME", servedModelName.Resource),
            .. adapters.Select(a => ($"MODEL__ADAPTERS__{a.Name}", a.Folder.Resource)),
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
