using QwenAspire.Text.Tokenization;

namespace QwenAspire.UnitTests.Tokenization;

public sealed class IncrementalDetokenizerTests
{
    private static Qwen3Tokenizer Tokenizer => ReferenceData.Tokenizer;

    [Theory]
    [InlineData("今天天气真好☀️，去公园散步🚶\u200d♀️吧🌳", true)]
    [InlineData("Family: 👨\u200d👩\u200d👧\u200d👦, flags: 🇨🇳🇺🇸🇯🇵 😀😀😀 𠀀𝐇𝐞𝐥𝐥𝐨", true)]
    [InlineData("患者，男，45岁，反复胃脘胀痛3年，伴嗳气、反酸。안녕하세요 ภาษาไทย", false)]
    public void StreamingNeverCutsACharacter(string text, bool splitsCharacters)
    {
        var ids = Tokenizer.Encode(text);
        var detokenizer = Tokenizer.CreateDetokenizer();
        var pieces = new List<string>();
        var sawEmptyPiece = false;

        foreach (var id in ids)
        {
            var piece = detokenizer.Push(id);
            sawEmptyPiece |= piece.Length == 0;
            Assert.DoesNotContain('\uFFFD', piece);
            if (piece.Length > 0)
            {
                Assert.False(char.IsHighSurrogate(piece[^1]), "piece ends in half a surrogate pair");
                Assert.False(char.IsLowSurrogate(piece[0]), "piece starts with half a surrogate pair");
            }
            pieces.Add(piece);
        }
        pieces.Add(detokenizer.Flush());

        Assert.Equal(Tokenizer.Decode(ids), string.Concat(pieces));
        Assert.Equal(text, string.Concat(pieces));
        // Where a character is split across byte-level tokens, the hold-back path must have been taken.
        if (splitsCharacters) Assert.True(sawEmptyPiece);
    }

    [Fact]
    public void EveryReferenceCaseStreamsToItsFullDecode()
    {
        foreach (var c in ReferenceData.EncodeCases)
        {
            var ids = ReferenceData.Ids(c.GetProperty("ids"));
            foreach (var skip in new[] { false, true })
            {
                var detokenizer = Tokenizer.CreateDetokenizer(skip);
                var streamed = string.Concat(ids.Select(detokenizer.Push)) + detokenizer.Flush();
                Assert.Equal(Tokenizer.Decode(ids, skip), streamed);
            }
        }
    }

    [Fact]
    public void RandomByteTokensStreamToTheSameTextAsOneShotDecode()
    {
        // Single-byte tokens in random order make invalid UTF-8 of every kind (stray continuation bytes,
        // truncated and overlong sequences); streaming must replace them exactly where a one-shot decode does.
        // Ids 0-255 of Qwen's vocab are the 256 single-byte tokens.
        Assert.All(Enumerable.Range(0, 256), id => Assert.Single(Tokenizer.IdToToken(id)!));
        var random = new Random(1234);
        for (var trial = 0; trial < 200; trial++)
        {
            var ids = Enumerable.Range(0, 24).Select(_ => random.Next(3) == 0 ? random.Next(0, 151669) : random.Next(0, 256)).ToArray();
            var detokenizer = Tokenizer.CreateDetokenizer();
            var streamed = string.Concat(ids.Select(detokenizer.Push)) + detokenizer.Flush();
            Assert.Equal(Tokenizer.Decode(ids), streamed);
        }
    }

    [Fact]
    public void FlushTurnsAnIncompleteCharacterIntoOneReplacementChar()
    {
        // "中" is E4 B8 AD; its first byte alone is the single-byte token for 0xE4.
        var firstByte = Tokenizer.TokenToId("ä")!.Value;
        var detokenizer = Tokenizer.CreateDetokenizer();

        Assert.Equal("a", detokenizer.Push(Tokenizer.Encode("a")[0]));
        Assert.Equal("", detokenizer.Push(firstByte));
        Assert.Equal("\uFFFD", detokenizer.Flush());
        Assert.Equal("\uFFFD", Tokenizer.Decode([firstByte]));
        Assert.Equal("b", detokenizer.Push(Tokenizer.Encode("b")[0]));
    }

    [Fact]
    public void SkippedSpecialTokensProduceNoText()
    {
        var detokenizer = Tokenizer.CreateDetokenizer(skipSpecialTokens: true);

        Assert.Equal("", detokenizer.Push(151645));
        Assert.Equal("<think>", detokenizer.Push(151667));
    }
}
