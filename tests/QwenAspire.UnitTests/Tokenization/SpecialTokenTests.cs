using QwenAspire.Text.Tokenization;

namespace QwenAspire.UnitTests.Tokenization;

public sealed class SpecialTokenTests
{
    private static Qwen3Tokenizer Tokenizer => ReferenceData.Tokenizer;

    [Theory]
    [InlineData("<|endoftext|>", 151643)]
    [InlineData("<|im_start|>", 151644)]
    [InlineData("<|im_end|>", 151645)]
    [InlineData("<tool_call>", 151657)]
    [InlineData("</tool_call>", 151658)]
    [InlineData("<tool_response>", 151665)]
    [InlineData("</tool_response>", 151666)]
    [InlineData("<think>", 151667)]
    [InlineData("</think>", 151668)]
    public void AddedTokenEncodesToOneId(string token, int id)
    {
        Assert.Equal([id], Tokenizer.Encode(token));
        Assert.Equal(id, Tokenizer.TokenToId(token));
        Assert.Equal(token, Tokenizer.IdToToken(id));
        Assert.Equal(token, Tokenizer.Decode([id]));
    }

    [Fact]
    public void OnlySpecialTrueTokensAreSpecial()
    {
        for (var id = 151643; id <= 151656; id++) Assert.True(Tokenizer.IsSpecial(id), $"id {id}");
        for (var id = 151657; id <= 151668; id++) Assert.False(Tokenizer.IsSpecial(id), $"id {id}");
        Assert.False(Tokenizer.IsSpecial(0));
        Assert.False(Tokenizer.IsSpecial(151700));
        Assert.False(Tokenizer.IsSpecial(-1));
    }

    [Fact]
    public void SkipSpecialTokensDropsOnlySpecialTrueTokens()
    {
        var ids = Tokenizer.Encode("<|im_start|>assistant\n<think>\nhm\n</think>\n\n<tool_call>x</tool_call><|im_end|><|endoftext|>");

        Assert.Equal("assistant\n<think>\nhm\n</think>\n\n<tool_call>x</tool_call>", Tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void VocabSizeCountsBpeAndAddedTokens()
    {
        Assert.Equal(151669, Tokenizer.VocabSize);
        Assert.Equal("!", Tokenizer.IdToToken(0));
        Assert.Equal("ĠĠ", Tokenizer.IdToToken(256));
        Assert.Null(Tokenizer.TokenToId("no such token"));
    }

    [Fact]
    public void EmbeddingPaddingIdsDecodeToNothing()
    {
        int[] ids = [9707, 151669, 151935, 0, -5, int.MaxValue];

        Assert.Equal("Hello!", Tokenizer.Decode(ids));
        Assert.Null(Tokenizer.IdToToken(151669));
        var detokenizer = Tokenizer.CreateDetokenizer();
        Assert.Equal("", detokenizer.Push(151900));
    }

    [Fact]
    public void LoneSurrogateEncodesAsReplacementCharacter()
    {
        Assert.Equal(Tokenizer.Encode("a\uFFFDb"), Tokenizer.Encode("a\uD800b"));
        Assert.Equal(Tokenizer.Encode("\uFFFD"), Tokenizer.Encode("\uDC00"));
    }

    [Fact]
    public void NonBmpLettersStayInOneWord()
    {
        // 𠀀 is a letter (Lo) outside the BMP: "ab𠀀cd" is a single pre-token, not split at the surrogates.
        Assert.Equal([(0, 6)], Qwen3PreTokenizer.Split("ab𠀀cd"));
        Assert.Equal([(0, 1), (1, 5)], Qwen3PreTokenizer.Split("x 𝐇𝐞")); // " 𝐇𝐞" is a space and two surrogate pairs
    }

    [Fact]
    public void LongSingleWordEncodesWithoutBlowingUp()
    {
        var text = new string('a', 50_000) + " " + string.Concat(Enumerable.Repeat("中文", 20_000));

        var ids = Tokenizer.Encode(text);

        Assert.Equal(text, Tokenizer.Decode(ids));
    }
}
