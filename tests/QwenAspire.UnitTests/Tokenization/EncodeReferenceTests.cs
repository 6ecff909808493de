using System.Text;
using QwenAspire.Text.Tokenization;

namespace QwenAspire.UnitTests.Tokenization;

public sealed class EncodeReferenceTests
{
    private static Qwen3Tokenizer Tokenizer => ReferenceData.Tokenizer;

    [Theory]
    [MemberData(nameof(ReferenceData.EncodeCaseIndices), MemberType = typeof(ReferenceData))]
    public void EncodeGivesReferenceIds(int index)
    {
        var c = ReferenceData.EncodeCases[index];
        var text = c.GetProperty("text").GetString()!;

        Assert.Equal(ReferenceData.Ids(c.GetProperty("ids")), Tokenizer.Encode(text));
    }

    [Theory]
    [MemberData(nameof(ReferenceData.EncodeCaseIndices), MemberType = typeof(ReferenceData))]
    public void EncodeGivesReferenceTokens(int index)
    {
        var c = ReferenceData.EncodeCases[index];
        var ids = Tokenizer.Encode(c.GetProperty("text").GetString()!);

        Assert.Equal(ReferenceData.Strings(c.GetProperty("tokens")), ids.Select(id => Tokenizer.IdToToken(id)!));
    }

    [Theory]
    [MemberData(nameof(ReferenceData.EncodeCaseIndices), MemberType = typeof(ReferenceData))]
    public void DecodeGivesReferenceText(int index)
    {
        var c = ReferenceData.EncodeCases[index];
        var ids = ReferenceData.Ids(c.GetProperty("ids"));

        Assert.Equal(c.GetProperty("decoded").GetString(), Tokenizer.Decode(ids));
        Assert.Equal(c.GetProperty("decoded_skip_special").GetString(), Tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Theory]
    [MemberData(nameof(ReferenceData.EncodeCaseIndices), MemberType = typeof(ReferenceData))]
    public void EncodeThenDecodeRoundTripsToNfcText(int index)
    {
        // HF decodes to the NFC form of the input (e.g. the Kelvin sign comes back as 'K').
        var text = ReferenceData.EncodeCases[index].GetProperty("text").GetString()!;

        Assert.Equal(text.Normalize(NormalizationForm.FormC), Tokenizer.Decode(Tokenizer.Encode(text)));
    }

    /// <summary>The cases the reference pre-tokenized: it has none for texts holding added tokens (cut out before pre-tokenizing).</summary>
    public static IEnumerable<object[]> PreTokenizedCaseIndices() =>
        ReferenceData.EncodeCaseIndices().Where(i => HasPreTokens((int)i[0]));

    public static IEnumerable<object[]> CaseIndicesWithoutPreTokens() =>
        ReferenceData.EncodeCaseIndices().Where(i => !HasPreTokens((int)i[0]));

    private static bool HasPreTokens(int index) =>
        ReferenceData.EncodeCases[index].GetProperty("pretokens").ValueKind != System.Text.Json.JsonValueKind.Null;

    [Theory]
    [MemberData(nameof(CaseIndicesWithoutPreTokens))]
    public void CasesWithoutReferencePreTokensAreTheOnesHoldingAddedTokens(int index)
    {
        var c = ReferenceData.EncodeCases[index];
        var ids = ReferenceData.Ids(c.GetProperty("ids"));
        Assert.Contains(ids, id => Tokenizer.IsAddedToken(id));
    }

    [Theory]
    [MemberData(nameof(PreTokenizedCaseIndices))]
    public void PreTokenizerSplitsLikeReference(int index)
    {
        var c = ReferenceData.EncodeCases[index];
        var expected = ReferenceData.Strings(c.GetProperty("pretokens"));
        var text = c.GetProperty("text").GetString()!;
        var nfc = text.Normalize(NormalizationForm.FormC);

        var pieces = Qwen3PreTokenizer.Split(nfc)
            .Select(p => ByteLevelSpelling(nfc.Substring(p.Start, p.Length)));

        Assert.Equal(expected, pieces);
    }

    public static IEnumerable<object[]> TemplateCaseIndices() =>
        Enumerable.Range(0, ReferenceData.Lines("template_cases.jsonl").Count).Select(i => new object[] { i });

    [Theory]
    [MemberData(nameof(TemplateCaseIndices))]
    public void RenderedTemplatePromptEncodesToReferenceIds(int index)
    {
        var rendered = ReferenceData.Lines("template_cases.jsonl")[index];
        var reference = ReferenceData.Lines("template_ids.jsonl")[index];
        Assert.Equal(rendered.GetProperty("name").GetString(), reference.GetProperty("name").GetString());

        var ids = Tokenizer.Encode(rendered.GetProperty("rendered").GetString()!);

        Assert.Equal(ReferenceData.Ids(reference.GetProperty("ids")), ids);
    }

    private static string ByteLevelSpelling(string s)
    {
        var token = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(s)) token.Append(ByteLevelChar(b));
        return token.ToString();
    }

    private static char ByteLevelChar(byte b)
    {
        // GPT-2's map, restated here so the test does not trust the code under test.
        if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE)) return (char)b;
        var n = 0;
        for (var x = 0; x < b; x++)
            if (!((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE))) n++;
        return (char)(256 + n);
    }
}
