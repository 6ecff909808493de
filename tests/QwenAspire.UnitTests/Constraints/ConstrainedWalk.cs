using System.Text;
using QwenAspire.Engine.Sampling.Constraints;
using QwenAspire.Engine.Sampling.LogitsProcessors;

namespace QwenAspire.UnitTests.Constraints;

/// <summary>
/// Drives a constraint processor like the engine does, with random logits that favour closing brackets and
/// quotes (a stand-in for a model that means to finish), until eos; returns the text. Fails if it never ends.
/// </summary>
internal static class ConstrainedWalk
{
    public static string Run(ILogitsProcessorFactory constraint, Random rng, int maxTokens, Func<int, float>? preference = null)
    {
        var vocabulary = ((JsonConstraint)constraint).Vocabulary;
        var processor = (IForcingProcessor)constraint.Create();
        var bytes = new List<byte>();
        var row = new float[vocabulary.Count + 7]; // a longer row, like the model's padded embedding
        for (var step = 0; step < maxTokens; step++)
        {
            for (var i = 0; i < row.Length; i++)
                row[i] = (float)rng.NextDouble() * 4 + (preference?.Invoke(i) ?? DefaultPreference(vocabulary, i));
            processor.Process(row);
            var token = processor.ForcedToken >= 0 ? processor.ForcedToken : SampleFinite(row, rng);
            processor.OnGenerated(token);
            if (vocabulary.IsEos(token)) return Encoding.UTF8.GetString([.. bytes]);
            bytes.AddRange(vocabulary.BytesOf(token).ToArray());
        }
        throw new InvalidOperationException($"No eos after {maxTokens} tokens: {Encoding.UTF8.GetString([.. bytes])}");
    }

    private static float DefaultPreference(TokenVocabulary vocabulary, int id)
    {
        if (vocabulary.IsEos(id)) return 6;
        var b = vocabulary.BytesOf(id);
        return b.IndexOfAny("}]\""u8) >= 0 ? 3 : 0;
    }

    private static int SampleFinite(float[] row, Random rng)
    {
        // Gumbel-max over the finite logits: an exact draw from softmax(row).
        var best = -1;
        var bestScore = double.NegativeInfinity;
        for (var i = 0; i < row.Length; i++)
        {
            if (float.IsNegativeInfinity(row[i])) continue;
            var score = row[i] - Math.Log(-Math.Log(rng.NextDouble() + 1e-300));
            if (score > bestScore) { bestScore = score; best = i; }
        }
        return best >= 0 ? best : throw new InvalidOperationException("The mask allowed no token.");
    }
}
