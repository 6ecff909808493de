using System.Text;
using QwenAspire.Text.Tokenization;

namespace QwenAspire.UnitTests.Tokenization;

public sealed class LoadErrorTests
{
    private const string Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static string MiniTokenizer(string model = "", string preTokenizerPattern = Pattern, string merges = "[]")
    {
        // All 256 byte-level chars as the vocab, so the file is otherwise valid.
        var vocab = string.Join(",", Enumerable.Range(0, 256).Select(b => $"\"{Escape(ByteChar(b))}\":{b}"));
        return $$"""
        {"added_tokens":[{"id":256,"content":"<|end|>","special":true}],
         "normalizer":{"type":"NFC"},
         "pre_tokenizer":{"type":"Sequence","pretokenizers":[
           {"type":"Split","pattern":{"Regex":"{{preTokenizerPattern}}"},"behavior":"Isolated","invert":false},
           {"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]},
         "decoder":{"type":"ByteLevel"},
         "model":{"type":"BPE"{{model}},"vocab":
        """ + "{" + vocab + "},\"merges\":" + merges + "}}";
    }

    private static char ByteChar(int b)
    {
        if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE) return (char)b;
        var n = Enumerable.Range(0, b).Count(x => !((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE));
        return (char)(256 + n);
    }

    private static string Escape(char c) => c is '"' or '\\' ? "\\" + c : c.ToString();

    private static Qwen3Tokenizer LoadText(string json) => Qwen3Tokenizer.Load(new MemoryStream(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void MinimalValidFileLoadsAndEncodesBytes()
    {
        var tokenizer = LoadText(MiniTokenizer());

        Assert.Equal(257, tokenizer.VocabSize);
        Assert.Equal([(int)'h', 'i', 256], tokenizer.Encode("hi<|end|>"));
    }

    [Fact]
    public void MergesApplyByRankInEitherFileFormat()
    {
        // Only "h i" is listed; with both files it merges to the id of "hi", which must exist.
        var withVocab = MiniTokenizer(merges: "[[\"h\",\"i\"]]").Replace("\"ÿ\":255", "\"ÿ\":255,\"hi\":300");
        var asStrings = MiniTokenizer(merges: "[\"h i\"]").Replace("\"ÿ\":255", "\"ÿ\":255,\"hi\":300");

        Assert.Equal([300], LoadText(withVocab).Encode("hi"));
        Assert.Equal([300], LoadText(asStrings).Encode("hi"));
    }

    [Fact]
    public void InvalidJsonNamesTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"bad-tokenizer-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{ not json");
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => Qwen3Tokenizer.Load(path));
            Assert.Contains(path, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(",\"byte_fallback\":true", "model.byte_fallback")]
    [InlineData(",\"continuing_subword_prefix\":\"##\"", "model.continuing_subword_prefix")]
    public void UnsupportedModelOptionIsRefusedByName(string model, string field)
    {
        var e = Assert.Throws<InvalidDataException>(() => LoadText(MiniTokenizer(model)));
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void OtherSplitPatternIsRefused()
    {
        var e = Assert.Throws<InvalidDataException>(() => LoadText(MiniTokenizer(preTokenizerPattern: "\\\\s+")));
        Assert.Contains("pre_tokenizer", e.Message);
    }

    [Fact]
    public void MergeOfUnknownTokenIsRefusedWithItsIndex()
    {
        var e = Assert.Throws<InvalidDataException>(() => LoadText(MiniTokenizer(merges: "[[\"h\",\"i\"]]")));
        Assert.Contains("model.merges[0]", e.Message);
    }

    [Fact]
    public void MissingByteTokenIsRefused()
    {
        var e = Assert.Throws<InvalidDataException>(() => LoadText(MiniTokenizer().Replace("\"a\":97,", "")));
        Assert.Contains("0x61", e.Message);
    }
}
