using Aspire.Hosting.Publishing;

namespace QwenAspire.AppHost;

/// <summary>
/// The 13.6 manifest writer drops probe annotations from <c>project.v0</c> entries, so a deployment tool reading
/// the manifest would never learn that <c>/health</c> gates readiness. This writes the standard project entry
/// (path, env, args, bindings) and appends the probes as <c>"probes": [{type, path, endpoint, …}]</c>.
/// </summary>
internal static class ManifestProbes
{
    public static IResourceBuilder<ProjectResource> WithProbesInManifest(this IResourceBuilder<ProjectResource> project) =>
        project.WithManifestPublishingCallback(context => WriteAsync(context, project.Resource));

    private static async Task WriteAsync(ManifestPublishingContext context, ProjectResource project)
    {
        var writer = context.Writer;
        writer.WriteString("type", "project.v0");
        writer.WriteString("path", context.GetManifestRelativePath(project.GetProjectMetadata().ProjectPath));
        await context.WriteEnvironmentVariablesAsync(project);
        await context.WriteCommandLineArgumentsAsync(project);
        context.WriteBindings(project);

        var probes = project.Annotations.OfType<EndpointProbeAnnotation>().ToList();
        if (probes.Count == 0)
            return;
        writer.WriteStartArray("probes");
        foreach (var probe in probes)
        {
            writer.WriteStartObject();
            writer.WriteString("type", probe.Type.ToString().ToLowerInvariant());
            writer.WriteString("scheme", probe.EndpointReference.EndpointAnnotation.UriScheme);
            writer.WriteString("endpoint", probe.EndpointReference.EndpointName);
            writer.WriteString("path", probe.Path);
            writer.WriteNumber("initialDelaySeconds", probe.InitialDelaySeconds);
            writer.WriteNumber("periodSeconds", probe.PeriodSeconds);
            writer.WriteNumber("timeoutSeconds", probe.TimeoutSeconds);
            writer.WriteNumber("failureThreshold", probe.FailureThreshold);
            writer.WriteNumber("successThreshold", probe.SuccessThreshold);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}
