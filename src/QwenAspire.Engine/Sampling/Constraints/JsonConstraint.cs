using QwenAspire.Engine.Sampling.LogitsProcessors;

namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// A compiled JSON grammar bound to a vocabulary: the request-level half of a constraint. Each sequence gets
/// its own <see cref="JsonConstraintProcessor"/>; masks are cached here per grammar state (shared by all
/// sequences using this instance, up to <see cref="MaxCacheBytes"/>), so a state seen once costs a
/// dictionary lookup afterwards. Used from the engine thread; the cache is locked anyway.
/// </summary>
public sealed class JsonConstraint : ILogitsProcessorFactory
{
    /// <summary>About 430 dense masks (19 KiB each on Qwen3) or many more sparse ones; later states are computed each time.</summary>
    public const long MaxCacheBytes = 8L << 20;
    private readonly Dictionary<GrammarState, TokenMask> _cache = [];
    private readonly Lock _lock = new();
    private long _cacheBytes;
    private MaskComputer? _computer;

    public JsonConstraint(SchemaNode root, TokenVocabulary vocabulary)
    {
        Root = root ?? throw new ArgumentNullException(nameof(root));
        Vocabulary = vocabulary ?? throw new ArgumentNullException(nameof(vocabulary));
    }

    /// <summary>json_object: one JSON object with any content.</summary>
    public static JsonConstraint JsonObject(TokenVocabulary vocabulary) => new(AnyNode.FreeObject, vocabulary);

    public SchemaNode Root { get; }
    public TokenVocabulary Vocabulary { get; }
    public int CachedStates { get { lock (_lock) return _cache.Count; } }
    /// <summary>Masks computed by walking the trie (cache misses).</summary>
    public long Computed { get; private set; }

    public ILogitsProcessor Create() => new JsonConstraintProcessor(this);

    internal TokenMask MaskFor(GrammarState state)
    {
        lock (_lock)
        {
            if (_cache.TryGetValue(state, out var cached)) return cached;
            _computer ??= new MaskComputer(Vocabulary);
            var mask = _computer.Compute(state);
            Computed++;
            if (_cacheBytes + mask.Bytes <= MaxCacheBytes)
            {
                _cache[state] = mask;
                _cacheBytes += mask.Bytes;
            }
            return mask;
        }
    }
}

/// <summary>
/// One sequence's grammar state as the last stage of its logits pipeline: masks the row to the tokens the
/// state allows (eos only once the value is complete), forces the token when only one is possible, and
/// advances by the bytes of each token generated.
/// </summary>
public sealed class JsonConstraintProcessor : IForcingProcessor
{
    private readonly JsonConstraint _constraint;
    private GrammarState _state;
    private TokenMask? _mask;
    private float[] _scratch = [];

    internal JsonConstraintProcessor(JsonConstraint constraint)
    {
        _constraint = constraint;
        _state = GrammarState.Initial(constraint.Root);
    }

    public int ForcedToken => _mask?.Forced ?? -1;

    /// <summary>True once eos was generated in an accepting state, or the value can take no further byte.</summary>
    public bool IsComplete => _state.IsFinished;

    public void Process(Span<float> logits)
    {
        _mask = _constraint.MaskFor(_state);
        if (_mask.Count == 0 && !_mask.EosAllowed)
            throw new InvalidOperationException("No token of the vocabulary continues the constrained JSON output (the vocabulary cannot spell what the schema requires).");
        var need = _mask.Count + _constraint.Vocabulary.EosTokenIds.Length;
        if (_scratch.Length < need) _scratch = new float[need];
        _mask.Apply(logits, _constraint.Vocabulary.EosTokenIds, _scratch);
    }

    public void OnGenerated(int tokenId)
    {
        var vocabulary = _constraint.Vocabulary;
        if (vocabulary.IsEos(tokenId))
        {
            if (!_state.IsAccepting) throw new InvalidOperationException($"End of sequence (token {tokenId}) came before the JSON value was complete.");
            return;
        }
        var next = _state.Advance(vocabulary.BytesOf(tokenId));
        if (next.IsDead || vocabulary.BytesOf(tokenId).IsEmpty)
            throw new InvalidOperationException($"Token {tokenId} does not continue the constrained JSON output.");
        _state = next;
    }
}
