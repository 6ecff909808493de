using System.Text;
using System.Text.Json;
using QwenAspire.Engine.Sampling.Constraints;

namespace QwenAspire.UnitTests.Constraints;

/// <summary>The pattern-string walk of <see cref="MaskComputer"/> against the general trie walk, on the Qwen3 vocabulary, at every byte of documents.</summary>
public sealed class PatternMaskTests
{
    [Theory]
    [InlineData("""{"type":"string","format":"email"}""", "\"jane.doe@example.org\"")]
    [InlineData("""{"type":"string","format":"hostname","maxLength":12}""", "\"api.ex-1.io\"")]
    [InlineData("""{"type":"object","properties":{"s":{"type":"string","pattern":"^[A-Z]{3}-\\d{2,4}$"},"t":{"type":"string","format":"date-time"}},"required":["s","t"]}""", """{"s":"ABC-123","t":"2026-12-03T12:45:00Z"}""")]
    [InlineData("""{"type":"array","items":{"type":"string","pattern":"^[^x]{1,6}$","minLength":2}}""", "[\"a\\\"é\\\\b\",\"€€\"]")]
    public void FastAndGeneralWalksAllowTheSameTokens(string schema, string document)
    {
        using var doc = JsonDocument.Parse(schema);
        var root = JsonSchemaCompiler.Compile(doc.RootElement.Clone());
        var vocabulary = ConstraintVocabularies.Qwen;
        var fast = new MaskComputer(vocabulary);
        var general = new MaskComputer(vocabulary) { FastPatterns = false };
        var bytes = Encoding.UTF8.GetBytes(document);
        var state = GrammarState.Initial(root);
        for (var i = 0; i <= bytes.Length; i++)
        {
            if (i > 0) state = state.Advance(bytes.AsSpan(i - 1, 1));
            Assert.False(state.IsDead, $"the document is refused at byte {i}");
            var a = fast.Compute(state);
            var b = general.Compute(state);
            Assert.Equal(b.Count, a.Count);
            Assert.Equal(b.EosAllowed, a.EosAllowed);
            for (var id = 0; id < vocabulary.Count; id++)
                Assert.True(b.Allows(id, vocabulary.EosTokenIds) == a.Allows(id, vocabulary.EosTokenIds), $"token {id} after {i} bytes of {document}");
        }
    }
}
