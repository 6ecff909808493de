using System.Text.Json;
using System.Text.Json.Nodes;
using QwenAspire.Engine.Sampling.Constraints;
using QwenAspire.Engine.Sampling.LogitsProcessors;
using QwenAspire.InferenceApi.Api;
using QwenAspire.InferenceApi.Protocol;

namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// tool_choice "required" or a named function: the output is constrained to Qwen3 tool-call blocks naming an
/// allowed function with arguments valid against its parameters (<see cref="ToolCallGrammar"/>), one block
/// when parallel_tool_calls is false, else one or more (up to <see cref="ToolCallGrammar.MaxParallelCalls"/>),
/// then eos. Thinking is off for such requests (the grammar holds from the first token), as for JSON output.
/// </summary>
public static class ForcedToolCalls
{
    /// <summary>Adds the forced-call constraint when tool_choice forces one; leaves <paramref name="constraint"/> alone otherwise.</summary>
    public static ApiError? Resolve(ChatCompletionRequest request, ServedModels models, ref ILogitsProcessorFactory? constraint)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Resolve(request.ToolChoice, request.Tools, request.ParallelToolCalls ?? true, models, ref constraint);
    }

    /// <summary>The same from a chat-shaped tool_choice and tools (the Responses front end converts its flat shapes first).</summary>
    public static ApiError? Resolve(JsonElement? toolChoice, JsonArray? tools, bool parallel, ServedModels models, ref ILogitsProcessorFactory? constraint)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (ToolChoice.Parse(toolChoice, tools, out var choice) is { } invalid) return invalid;
        if (!choice.IsForced) return null;
        if (models.StructuredOutputs is not { } outputs)
            return ApiError.BadRequest("This server cannot constrain output for this model; tool_choice must be 'auto' or 'none'.", "tool_choice", "unsupported_value");
        var functions = new List<ToolFunction>();
        for (var i = 0; i < tools!.Count; i++)
        {
            var fn = tools[i]!["function"]!;
            var name = (string)fn["name"]!;
            if (choice.FunctionName is { } only && name != only) continue;
            JsonElement? parameters = fn["parameters"] is { } p ? JsonSerializer.SerializeToElement(p) : null;
            functions.Add(new ToolFunction(name, parameters, $"tools[{i}].function.parameters"));
        }
        var error = outputs.ResolveToolCalls(functions, parallel, out var forced);
        if (error is null) constraint = forced;
        return error;
    }
}
