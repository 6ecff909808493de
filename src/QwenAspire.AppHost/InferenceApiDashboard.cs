using Microsoft.Extensions.DependencyInjection;

namespace QwenAspire.AppHost;

/// <summary>
/// The InferenceApi as a model resource in the dashboard: load progress as its state, adapters as children, the
/// load/unload commands, and a connection string resource (<c>Endpoint=…/v1;Key=…;Model=…</c>) for clients.
/// </summary>
internal static class InferenceApiDashboard
{
    public const string RuntimeLoraVariable = "ENGINE__ALLOW_RUNTIME_LORA";
    public const string LoraRootVariablePrefix = "ENGINE__LORA_ROOTS__";

    /// <summary>
    /// <c>Parameters:lora-roots</c> = <c>DIR;DIR2</c> turns on runtime adapters (<c>engine.allow_runtime_lora</c>) confined to
    /// those folders (<c>engine.lora_roots</c>): the dashboard's Load command may only name folders under them. Unset: off,
    /// the parameter does not exist and the commands are hidden.
    /// </summary>
    public static IResourceBuilder<ParameterResource>? AddLoraRootsParameter(IDistributedApplicationBuilder builder) =>
        string.IsNullOrWhiteSpace(builder.Configuration["Parameters:lora-roots"]) ? null
            : InferenceApiResource.AddParameter(builder, "lora-roots", "")
                .WithDescription("Folders (separated by ';') that runtime LoRA adapters may be loaded from; setting it turns runtime loading on.");

    public static IResourceBuilder<ProjectResource> WithRuntimeLora(this IResourceBuilder<ProjectResource> api, IResourceBuilder<ParameterResource>? roots)
    {
        if (roots is null) return api;
        return api.WithEnvironment(async context =>
        {
            context.EnvironmentVariables[RuntimeLoraVariable] = "true";
            var value = context.ExecutionContext.IsPublishMode ? null : await roots.Resource.GetValueAsync(context.CancellationToken);
            if (value is null)
            {
                context.EnvironmentVariables[LoraRootVariablePrefix + "0"] = roots.Resource; // the deployment fills it in
                return;
            }
            var folders = value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            for (int i = 0; i < folders.Length; i++)
                context.EnvironmentVariables[LoraRootVariablePrefix + i] = folders[i];
        });
    }

    /// <summary>State, children and commands (see <see cref="InferenceApiMonitor"/>).</summary>
    public static IResourceBuilder<ProjectResource> WithModelDashboard(this IResourceBuilder<ProjectResource> api,
        IDistributedApplicationBuilder builder, IResourceBuilder<ParameterResource> apiKey, bool runtimeLora)
    {
        var monitor = new InferenceApiMonitor(api.Resource, apiKey.Resource, runtimeLora);
        if (!builder.ExecutionContext.IsPublishMode)
            builder.Services.AddHostedService(sp =>
            {
                monitor.Services = sp;
                return monitor;
            });
        return api.WithCommand(InferenceApiMonitor.LoadCommand, "Load LoRA adapter", monitor.LoadAsync, new CommandOptions
        {
            Description = "POST /v1/load_lora_adapter: serves a PEFT adapter folder (under the lora-roots parameter) as a new model.",
            IconName = "Add",
            UpdateState = monitor.LoadCommandState,
            Arguments =
            [
                new InteractionInput { Name = "name", Label = "Adapter name (the model name clients send)", InputType = InputType.Text, Required = true },
                new InteractionInput { Name = "path", Label = "Adapter folder (under lora-roots)", InputType = InputType.Text, Required = true },
            ],
        });
    }

    /// <summary>
    /// <c>ConnectionStrings:NAME</c> = <c>Endpoint=http://…/v1;Key=…;Model=…</c>: the form Aspire's OpenAI client integration
    /// reads (<c>AddOpenAIClient(NAME).AddChatClient()</c>; the OpenAI SDK wants the <c>/v1</c> base), and our Sdk's
    /// <c>AddQwenClient(NAME)</c> too (it takes the base with or without <c>/v1</c>).
    /// </summary>
    public static IResourceBuilder<ConnectionStringResource> AddModelConnectionString(this IDistributedApplicationBuilder builder, string name,
        IResourceBuilder<ProjectResource> api, IResourceBuilder<ParameterResource> apiKey,
        IResourceBuilder<ParameterResource> modelPath, IResourceBuilder<ParameterResource> servedModelName)
    {
        var endpoint = api.GetEndpoint("http");
        var model = new ServedModelName(modelPath.Resource, servedModelName.Resource);
        return builder.AddConnectionString(name, ReferenceExpression.Create(
                $"Endpoint={endpoint.Property(EndpointProperty.Url)}/v1;Key={apiKey.Resource};Model={model}"))
            .WithParentRelationship(api);
    }

    /// <summary>The base model's served name, as the API derives it: served-model-name, else the model folder's name, else the demo model.</summary>
    private sealed class ServedModelName(ParameterResource modelPath, ParameterResource servedName) : IValueProvider, IManifestExpressionProvider
    {
        public const string DemoModelName = "qwen3-demo";

        public string ValueExpression => servedName.ValueExpression;

        public async ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default)
        {
            var name = await servedName.GetValueAsync(cancellationToken);
            if (!string.IsNullOrWhiteSpace(name)) return name.Trim();
            var path = await modelPath.GetValueAsync(cancellationToken);
            return string.IsNullOrWhiteSpace(path) ? DemoModelName : new DirectoryInfo(Path.GetFullPath(path.Trim())).Name;
        }
    }
}
