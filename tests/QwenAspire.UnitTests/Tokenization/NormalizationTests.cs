using System.Text;
using QwenAspire.Text.Tokenization;

namespace QwenAspire.UnitTests.Tokenization;

public sealed class NormalizationTests
{
    private static Qwen3Tokenizer Tokenizer => ReferenceData.Tokenizer;

    [Theory]
    [InlineData("Cafe\u0301\nplain line\n\u212A and \u212B\n\n한\u1100\u1161 e\u0301\u0323\n")]
    [InlineData("\u0301 leading mark\nx\u0301")]
    [InlineData("caf\u00E9 already NFC\n中文\nno change")]
    public void EncodingEqualsEncodingOfTheWholeTextInNfc(string text)
    {
        var nfc = text.Normalize(NormalizationForm.FormC);

        Assert.Equal(Tokenizer.Encode(nfc), Tokenizer.Encode(text));
        Assert.Equal(nfc, Tokenizer.Decode(Tokenizer.Encode(text)));
    }

    [Fact]
    public void AddedTokensAreMatchedBeforeNormalization()
    {
        // The combining mark after <think> must not change how <think> is found (it is cut out of the raw text first).
        var ids = Tokenizer.Encode("<think>\u0301x");

        Assert.Equal(151667, ids[0]);
        Assert.Equal("<think>\u0301x", Tokenizer.Decode(ids));
    }
}
