using System.Text;
using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Sampling;

namespace QwenAspire.UnitTests.Generation;

/// <summary>
/// Deterministic model: the next token is (last token + 1) mod vocab with logit 10, everything else 0,
/// so greedy output is predictable. Records every batch and release; can block, slow down or fail.
/// </summary>
internal sealed class CountingRunner(int vocabSize = 32, int maxContextLength = 4096) : IModelRunner
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, int> _steps = [];
    private readonly HashSet<long> _released = [];
    private readonly List<(string? Adapter, int Size, bool Prefill)> _batches = [];

    public int VocabSize => vocabSize;
    public int MaxContextLength => maxContextLength;
    public IReadOnlyList<RunnerAdapter> Adapters { get; init; } = [new("a", 1), new("b", 2)];
    // MODEL-BRANCH COMPILE SHIM (dropped at merge; the engine branch rewrites this double for StepBatch).
    public int KvBlockSize => 16;
    public int KvBlockCount => 1024;
    public bool ServesBaseModel => true;
    public ReadOnlySpan<float> Execute(StepBatch step) => throw new NotSupportedException("engine branch");
    public int LoadAdapter(string name, string folder) => throw new NotSupportedException("engine branch");
    public void UnloadAdapter(int slot) => throw new NotSupportedException("engine branch");
    /// <summary>A prompt token that makes Step throw (a "bad input" for the model).</summary>
    public int PoisonToken { get; init; } = -1;
    public TimeSpan StepDelay { get; init; }
    /// <summary>When set, Step waits on it (lets a test fill the queue while the loop is busy).</summary>
    public ManualResetEventSlim? Gate { get; init; }
    /// <summary>Flat logits (every token equally likely) instead of the "+1" rule.</summary>
    public bool Flat { get; init; }
    public readonly ManualResetEventSlim FirstStepEntered = new();

    public void Step(IReadOnlyList<Sequence> batch)
    {
        FirstStepEntered.Set();
        Gate?.Wait(TimeSpan.FromSeconds(20));
        if (StepDelay > TimeSpan.Zero) Thread.Sleep(StepDelay);
        lock (_lock)
        {
            _batches.Add((batch[0].Adapter, batch.Count, batch[0].CachedTokens == 0));
            foreach (var s in batch)
            {
                if (s.Adapter != batch[0].Adapter) throw new InvalidOperationException("mixed adapters in one batch");
                _steps[s.Id] = _steps.GetValueOrDefault(s.Id) + 1;
            }
        }
        foreach (var s in batch)
        {
            for (var i = s.CachedTokens; i < s.Tokens.Count; i++)
                if (s.Tokens[i] == PoisonToken) throw new InvalidOperationException("poisoned prompt");
            s.CachedTokens = s.Tokens.Count;
            var logits = s.Logits ??= new float[vocabSize];
            Array.Clear(logits);
            if (!Flat) logits[(s.Tokens[^1] + 1) % vocabSize] = 10f;
        }
    }

    public void Release(Sequence sequence)
    {
        lock (_lock) _released.Add(sequence.Id);
    }

    public int StepsOf(long id) { lock (_lock) return _steps.GetValueOrDefault(id); }
    public int SequencesStepped { get { lock (_lock) return _steps.Count; } }
    public bool IsReleased(long id) { lock (_lock) return _released.Contains(id); }
    public int ReleasedCount { get { lock (_lock) return _released.Count; } }
    public List<(string? Adapter, int Size, bool Prefill)> Batches { get { lock (_lock) return [.. _batches]; } }
    /// <summary>The id of the only sequence stepped with this prompt start (sequence ids are global).</summary>
    public long IdOfNewest() { lock (_lock) return _steps.Keys.Max(); }

    public void Dispose() => FirstStepEntered.Dispose();
}

/// <summary>Token t decodes to the letter 'a' + t mod 26 (token ids are their own text, handy in assertions).</summary>
internal sealed class LetterDecoder : ITextDecoder
{
    public string Push(int tokenId) => ((char)('a' + tokenId % 26)).ToString();
    public string Flush() => "";
}

/// <summary>Tokens are byte strings; emits only complete UTF-8 characters, like the real incremental detokenizer.</summary>
internal sealed class BytesDecoder(IReadOnlyDictionary<int, byte[]> vocab) : ITextDecoder
{
    private readonly Decoder _utf8 = new UTF8Encoding(false, false).GetDecoder();

    public string Push(int tokenId)
    {
        var bytes = vocab[tokenId];
        var chars = new char[bytes.Length + 2];
        var n = _utf8.GetChars(bytes, 0, bytes.Length, chars, 0, flush: false);
        return new string(chars, 0, n);
    }

    public string Flush()
    {
        var chars = new char[8];
        var n = _utf8.GetChars([], 0, 0, chars, 0, flush: true);
        return new string(chars, 0, n);
    }

    public static Func<SamplingParams, ITextDecoder> FactoryFor(params string[] tokens)
    {
        var vocab = new Dictionary<int, byte[]>();
        for (var i = 0; i < tokens.Length; i++) vocab[i] = Encoding.UTF8.GetBytes(tokens[i]);
        return _ => new BytesDecoder(vocab);
    }
}
