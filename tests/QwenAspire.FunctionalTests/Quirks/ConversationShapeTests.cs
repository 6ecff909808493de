using System.Net;
using System.Text.Json.Nodes;

namespace QwenAspire.FunctionalTests.Quirks;

/// <summary>
/// What real clients put in a conversation besides OpenAI's plain shape, replayed as they send it: each is
/// rendered through /tokenize (the chat endpoint's own renderer, which returns the prompt) and compared with
/// the canonical form, and chat is shown to run the same prompt (its prompt_token_ids).
/// </summary>
[Collection(ModelCollection.Name)]
public sealed class ConversationShapeTests(ModelServer server)
{
    private async Task<string> RenderAsync(string messagesJson, string extra = "")
    {
        var json = await server.PostJsonAsync("/tokenize", $$"""{"model": "{{ModelServer.Model}}", "messages": {{messagesJson}}{{extra}}}""");
        return (string)json["prompt"]!;
    }

    private async Task<(int[] Chat, int[] Tokenize)> PromptIdsAsync(string messagesJson)
    {
        var chat = await server.PostJsonAsync("/v1/chat/completions",
            $$"""{"model": "{{ModelServer.Model}}", "messages": {{messagesJson}}, "max_tokens": 1, "return_token_ids": true}""");
        var tokenize = await server.PostJsonAsync("/tokenize", $$"""{"model": "{{ModelServer.Model}}", "messages": {{messagesJson}}}""");
        return (chat["prompt_token_ids"]!.AsArray().Select(t => (int)t!).ToArray(), tokenize["tokens"]!.AsArray().Select(t => (int)t!).ToArray());
    }

    [Fact]
    public async Task DeveloperRoleIsSystemAndALaterSystemMessageStaysWhereQwen3sTemplatePutsIt()
    {
        // OpenAI's SDKs send "developer" for o-series models; LangChain-style agents add a second system message later on.
        const string messages = """
            [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Hi"},
             {"role": "system", "content": [{"type": "text", "text": "Answer in French."}]}, {"role": "user", "content": "Again"}]
            """;
        string prompt = await RenderAsync(messages);
        // Qwen3's template renders a later system message in place (as Hugging Face does); templates that refuse it
        // get the merged form (StrictTemplateTests).
        Assert.StartsWith("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>system\nAnswer in French.<|im_end|>\n", prompt);
        var (chat, tokenize) = await PromptIdsAsync(messages);
        Assert.Equal(tokenize, chat);
    }

    [Fact]
    public async Task ThinkTagsInAnAssistantContentAreSplitOffEvenWhenReasoningIsSentToo()
    {
        // Dify and chat UIs replay the answer they showed, <think> block included, and some send the reasoning as well.
        string withTags = await RenderAsync("""
            [{"role": "user", "content": "2+2?"},
             {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4", "reasoning_content": "add them"},
             {"role": "user", "content": "and 3+3?"}]
            """);
        string canonical = await RenderAsync("""
            [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4", "reasoning_content": "add them"},
             {"role": "user", "content": "and 3+3?"}]
            """);
        Assert.Equal(canonical, withTags);
        Assert.DoesNotContain("<think>\nadd them", withTags);
    }

    [Fact]
    public async Task ReasoningUnderEitherNameIsRenderedForTheTurnsAfterTheLastQuestion()
    {
        // vLLM ≥ 0.10 and OpenRouter call it "reasoning", DeepSeek and Dify "reasoning_content".
        const string template = """
            [{"role": "user", "content": "Weather in Paris?"},
             {"role": "assistant", "content": null, "FIELD": "I should call the tool.",
              "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
             {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]
            """;
        string viaReasoning = await RenderAsync(template.Replace("FIELD", "reasoning"));
        string viaReasoningContent = await RenderAsync(template.Replace("FIELD", "reasoning_content"));
        Assert.Equal(viaReasoningContent, viaReasoning);
        Assert.Contains("<|im_start|>assistant\n<think>\nI should call the tool.\n</think>\n\n<tool_call>", viaReasoning);
    }

    [Theory]
    [InlineData("""{"name": "get_weather", "arguments": {"city": "Paris"}}""")]                                           // flat, object
    [InlineData("""{"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}""")]                                   // flat, string
    [InlineData("""{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}""")] // OpenAI, object
    public async Task ToolCallsInHistoryMayBeFlatAndTheirArgumentsAnObject(string call)
    {
        static string Conversation(string toolCall) => $$"""
            [{"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": "", "tool_calls": [{{toolCall}}]},
             {"role": "tool", "content": "sunny"}]
            """;
        string openAi = await RenderAsync(Conversation("""{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}"""));
        Assert.Equal(openAi, await RenderAsync(Conversation(call)));
        Assert.Contains("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", openAi);
        var (chat, tokenize) = await PromptIdsAsync(Conversation(call));
        Assert.Equal(tokenize, chat);
    }

    [Fact]
    public async Task AToolCallWithoutAnyNameIsRefusedNamingTheField()
    {
        using var client = server.App.Client();
        var response = await client.PostAsync("/v1/chat/completions", ModelServer.Json($$$"""
            {"model": "{{{ModelServer.Model}}}", "messages": [{"role": "user", "content": "x"},
             {"role": "assistant", "content": "", "tool_calls": [{"arguments": {}}]}]}
            """));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("messages[1].tool_calls[0].function.name", (string?)error["param"]);
    }
}
