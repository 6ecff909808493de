using System.Diagnostics;
using System.Text.Json.Nodes;
using QwenAspire.Text.Templating;

namespace QwenAspire.Bench.Commands;

/// <summary>
/// <c>bench-template [--iterations N] [--turns N]</c>: renders the embedded Qwen3 chat template over a
/// conversation of N turns (default 20: user questions, assistant answers with thinking, tool calls and
/// tool results) with two tools, and prints the mean time per render. Goal: well under 1 ms.
/// </summary>
public static class TemplateBench
{
    public static int Run(string[] args)
    {
        int iterations = IntOption(args, "--iterations", 5000);
        int turns = IntOption(args, "--turns", 20);

        var compile = Stopwatch.StartNew();
        var template = ChatTemplate.FromEmbeddedQwen3();
        compile.Stop();
        var recompile = Stopwatch.StartNew();
        ChatTemplate.FromEmbeddedQwen3();
        recompile.Stop();
        var (messages, tools) = BuildConversation(turns);
        var kwargs = new Dictionary<string, JsonNode?> { ["enable_thinking"] = true };

        var first = Stopwatch.StartNew();
        string prompt = template.Render(messages, tools, addGenerationPrompt: true, kwargs);
        first.Stop();

        for (int i = 0; i < Math.Min(500, iterations); i++) template.Render(messages, tools, true, kwargs);
        int exceptions = 0;
        AppDomain.CurrentDomain.FirstChanceException += (_, _) => exceptions++;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        // CPU time next to wall time: on a shared, overloaded machine wall time mostly measures waiting.
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++) template.Render(messages, tools, true, kwargs);
        sw.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        double meanUs = sw.Elapsed.TotalMicroseconds / iterations;

        // The share spent turning the JSON request into template values (an empty template does only that).
        var empty = JinjaTemplate.Parse("");
        var vars = new Dictionary<string, object?> { ["messages"] = messages, ["tools"] = tools };
        long convBefore = GC.GetAllocatedBytesForCurrentThread();
        var conv = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++) empty.Render(vars);
        conv.Stop();
        long convAllocated = GC.GetAllocatedBytesForCurrentThread() - convBefore;
        Console.WriteLine($"conversation: {messages.Count} messages, {tools.Count} tools; prompt {prompt.Length} chars");
        Console.WriteLine($"compile (parse) template: {compile.Elapsed.TotalMilliseconds:F2} ms cold (JIT), {recompile.Elapsed.TotalMilliseconds:F2} ms warm; first render: {first.Elapsed.TotalMilliseconds:F2} ms");
        Console.WriteLine($"render: {meanUs:F1} µs mean wall time over {iterations} renders ({1e6 / meanUs:F0} renders/s); process CPU {cpu.TotalMicroseconds / iterations:F1} µs per render; {allocated / iterations / 1024.0:F1} KiB allocated per render");
        if (exceptions > 0) Console.WriteLine($"warning: {exceptions} exceptions thrown while rendering");
        Console.WriteLine($"  of which JSON-to-template value conversion: {conv.Elapsed.TotalMicroseconds / iterations:F1} µs, {convAllocated / iterations / 1024.0:F1} KiB");
        return 0;
    }

    /// <summary>A deterministic conversation: every third turn the assistant calls a tool and gets a result.</summary>
    public static (JsonArray Messages, JsonArray Tools) BuildConversation(int turns)
    {
        var tools = new JsonArray
        {
            Tool("get_weather", "Get the current weather for a city.", new JsonObject
            {
                ["city"] = new JsonObject { ["type"] = "string", ["description"] = "City name, e.g. 杭州" },
                ["unit"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("celsius", "fahrenheit") },
            }),
            Tool("search_herbs", "按症状检索中药材及方剂", new JsonObject
            {
                ["symptom"] = new JsonObject { ["type"] = "string" },
                ["max_results"] = new JsonObject { ["type"] = "integer", ["default"] = 5, ["minimum"] = 1.0 },
            }),
        };
        var messages = new JsonArray { new JsonObject { ["role"] = "system", ["content"] = "You are a helpful assistant for travel and health questions." } };
        for (int t = 0; messages.Count < turns; t++)
        {
            messages.Add(new JsonObject { ["role"] = "user", ["content"] = $"Question {t}: what should I know about city {t} and remedy {t}?" });
            if (t % 3 == 1)
            {
                messages.Add(new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = $"<think>\nI need the weather for city {t}.\n</think>\n\nLet me check.",
                    ["tool_calls"] = new JsonArray(new JsonObject
                    {
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = new JsonObject { ["city"] = $"City {t}", ["unit"] = "celsius" } },
                    }),
                });
                messages.Add(new JsonObject { ["role"] = "tool", ["content"] = $"{{\"temperature\": {15 + t}, \"sky\": \"cloudy\"}}" });
            }
            messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = $"<think>\nAnswering turn {t} briefly.\n</think>\n\nHere is what I found for turn {t}: it is fine, 温度适中." });
        }
        while (messages.Count > turns) messages.RemoveAt(messages.Count - 1);
        return (messages, tools);
    }

    private static JsonObject Tool(string name, string description, JsonObject properties) => new()
    {
        ["type"] = "function",
        ["function"] = new JsonObject
        {
            ["name"] = name,
            ["description"] = description,
            ["parameters"] = new JsonObject { ["type"] = "object", ["properties"] = properties, ["required"] = new JsonArray(properties.First().Key) },
        },
    };

    private static int IntOption(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out int v) && v > 0 ? v : fallback;
    }
}
