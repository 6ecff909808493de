// CI reports the fast set (no server, no model load, no process) and the slow set separately:
// dotnet test QwenAspire.sln --filter Speed=Fast, then --filter Speed!=Fast (see .ci/run).
[assembly: AssemblyTrait("Speed", "Slow")]
