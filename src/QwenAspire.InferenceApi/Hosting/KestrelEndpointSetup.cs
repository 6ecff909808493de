using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using QwenAspire.InferenceApi.Options;

namespace QwenAspire.InferenceApi.Hosting;

/// <summary>
/// Listens on server.host:server.port, unless the host was given <c>urls</c> (ASPNETCORE_URLS, as Aspire
/// does, or --urls) and no --host/--port: then ASP.NET's own address handling is left alone.
/// </summary>
public sealed class KestrelEndpointSetup(IOptions<ServerOptions> server, IConfiguration configuration, ConfigurationSourceInfo source)
    : IConfigureOptions<KestrelServerOptions>
{
    public void Configure(KestrelServerOptions kestrel)
    {
        var o = server.Value;
        kestrel.Limits.MaxRequestBodySize = o.MaxRequestBodyBytes;
        kestrel.AddServerHeader = false;

        bool urlsGiven = !string.IsNullOrWhiteSpace(configuration["urls"]) || !string.IsNullOrWhiteSpace(configuration["http_ports"]);
        if (urlsGiven && !source.EndpointExplicit) return;

        switch (o.Host)
        {
            case "0.0.0.0" or "*" or "+":
                kestrel.ListenAnyIP(o.Port);
                break;
            case "localhost":
                kestrel.ListenLocalhost(o.Port);
                break;
            default:
                kestrel.Listen(IPAddress.TryParse(o.Host, out var ip) ? ip
                    : throw new OptionsValidationException(ServerOptions.Section, typeof(ServerOptions),
                        [$"server.host: '{o.Host}' is not an IP address, 0.0.0.0 or localhost."]), o.Port);
                break;
        }
    }
}
