namespace QwenAspire.Engine.Sampling.LogitsProcessors;

/// <summary>
/// A sequence's processors in their fixed order: penalties → logit_bias → constraint mask. The mask comes
/// last so that no bias can bring back a token the grammar forbids. Stages that would change nothing are
/// left out, so an unconstrained, unpenalised request costs nothing here.
/// </summary>
public sealed class LogitsPipeline : IForcingProcessor
{
    private readonly ILogitsProcessor[] _stages;
    private readonly IForcingProcessor? _forcing;

    public LogitsPipeline(IEnumerable<ILogitsProcessor> stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        _stages = [.. stages];
        _forcing = _stages.LastOrDefault() as IForcingProcessor;
    }

    /// <summary>The pipeline <paramref name="p"/> asks for, with penalty statistics seeded from <paramref name="promptTokens"/>.</summary>
    public static LogitsPipeline Create(SamplingParams p, IReadOnlyList<int> promptTokens)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(promptTokens);
        var stages = new List<ILogitsProcessor>(3);
        if (PenaltyProcessor.IsActive(p)) stages.Add(new PenaltyProcessor(p, new PenaltyTracker(promptTokens)));
        if (p.LogitBias is { Count: > 0 } bias) stages.Add(new LogitBiasProcessor(bias));
        if (p.Constraint is { } constraint) stages.Add(constraint.Create());
        return new LogitsPipeline(stages);
    }

    public IReadOnlyList<ILogitsProcessor> Stages => _stages;

    public int ForcedToken => _forcing?.ForcedToken ?? -1;

    public void Process(Span<float> logits)
    {
        foreach (var s in _stages) s.Process(logits);
    }

    public void OnGenerated(int tokenId)
    {
        foreach (var s in _stages) s.OnGenerated(tokenId);
    }
}
