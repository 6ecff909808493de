using QwenAspire.Engine.Generation;

namespace QwenAspire.UnitTests.Generation;

public sealed class EngineOptionsTests
{
    [Fact]
    public void TheDefaultsAreValid() => new EngineOptions().Validate();

    [Fact]
    public void ATokenBudgetBelowTheRunningSequencesIsRefusedNamingTheKey()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new EngineOptions { MaxRunningSequences = 16, MaxBatchedTokens = 8 }.Validate());
        Assert.Equal("Engine:MaxBatchedTokens", ex.ParamName);
        Assert.Contains("MaxRunningSequences (16)", ex.Message);
        Assert.Equal("Engine:MaxBatchedTokens", Assert.Throws<ArgumentOutOfRangeException>(() => new EngineOptions { MaxBatchedTokens = 0 }.Validate()).ParamName);
    }
}
