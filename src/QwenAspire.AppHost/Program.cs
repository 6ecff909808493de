using QwenAspire.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

// Parameters come from configuration (Parameters:NAME: appsettings, user secrets, --Parameters:NAME=…), with a
// fallback when unset. Aspire's AddParameter(name, value) would pin the value and ignore configuration.
// Empty model path: the API generates and serves its demo model (fine for a first run; see docs/aspire.md).
var modelPath = InferenceApiResource.AddParameter(builder, "model-path", fallback: "")
    .WithDescription("Hugging Face folder of the base Qwen3 checkpoint; empty serves the generated demo model.");
var servedModelName = InferenceApiResource.AddParameter(builder, "served-model-name", fallback: "")
    .WithDescription("Name clients pass as `model`; empty uses the model folder's name.");
var apiKey = InferenceApiResource.AddParameter(builder, "api-key", fallback: InferenceApiResource.DevelopmentApiKey, secret: true)
    .WithDescription("Key clients send as Authorization: Bearer or x-api-key.");
var adapters = InferenceApiResource.AddAdapterParameters(builder);
var loraRoots = InferenceApiDashboard.AddLoraRootsParameter(builder);   // set: runtime adapters (Load/Unload commands) on

// No launch profile: the endpoint is declared here, and Aspire hands it to the API as ASPNETCORE_URLS,
// which the API prefers over its own server.host/server.port.
var api = builder.AddProject<Projects.QwenAspire_InferenceApi>("inferenceapi", launchProfileName: null)
    .WithHttpEndpoint(name: "http")
    .WithModel(modelPath, servedModelName, adapters)
    .WithApiKey(apiKey)
    .WithRuntimeLora(loraRoots)
    // The readiness probe on /health is also the resource's HTTP health check (Aspire registers the same check
    // as .WithHttpHealthCheck("/health"), which would collide), so the dashboard and WaitFor see the model load.
    // Each probe adds its own check, so there is one per path. Both are exported to the deployment manifest.
    .WithHttpProbe(ProbeType.Readiness, "/health", initialDelaySeconds: 5, periodSeconds: 10)
    .WithHttpProbe(ProbeType.Liveness, "/alive", initialDelaySeconds: 30, periodSeconds: 30, failureThreshold: 5)
    .WithExternalHttpEndpoints()
    .WithProbesInManifest()
    // Model load progress as the state, served adapters as children, Load/Unload adapter commands.
    .WithModelDashboard(builder, apiKey, runtimeLora: loraRoots is not null);

// Clients: .WithReference(model) gives ConnectionStrings:model = Endpoint=…/v1;Key=…;Model=… (our Sdk's AddQwenClient
// and Aspire's OpenAI client integration both read it).
builder.AddModelConnectionString("model", api, apiKey, modelPath, servedModelName);

builder.Build().Run();
