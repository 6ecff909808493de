using QwenAspire.InferenceApi.Serving;

namespace QwenAspire.UnitTests.Serving;

/// <summary>
/// engine.lora_roots confinement of a runtime <c>lora_path</c>, on real folders and symbolic links in a temp
/// tree: roots/a (adapter), roots/b, and outside/ (a folder no client may make the server read).
/// </summary>
public sealed class LoraPathPolicyTests : IDisposable
{
    private readonly string _tmp = Path.Combine(Path.GetTempPath(), "qwenaspire-lora-paths-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly string _roots;
    private readonly string _outside;

    public LoraPathPolicyTests()
    {
        _roots = Directory.CreateDirectory(Path.Combine(_tmp, "roots")).FullName;
        _outside = Directory.CreateDirectory(Path.Combine(_tmp, "outside")).FullName;
        Adapter(Path.Combine(_roots, "a"));
        Adapter(_outside);
    }

    private static string Adapter(string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "adapter_config.json"), "{}");
        File.WriteAllText(Path.Combine(folder, "adapter_model.safetensors"), "x");
        return folder;
    }

    private LoraPathPolicy Policy(params string[] roots) => new(roots.Length == 0 ? [_roots] : roots);

    private static string Refused(LoraPathPolicy policy, string path)
    {
        Assert.Null(policy.Resolve(path, out var error));
        Assert.NotNull(error);
        return error;
    }

    [Fact]
    public void AbsoluteAndRelativePathsUnderARootResolveToTheRealFolder()
    {
        var policy = Policy();
        Assert.Equal(Path.Combine(_roots, "a"), policy.Resolve(Path.Combine(_roots, "a"), out var error));
        Assert.Null(error);
        Assert.Equal(Path.Combine(_roots, "a"), policy.Resolve("a", out _));
        Assert.Equal(Path.Combine(_roots, "a"), policy.Resolve("./a/", out _));
    }

    [Fact]
    public void ARelativePathIsLookedUpInEveryRootInOrder()
    {
        string second = Adapter(Path.Combine(_tmp, "second", "only-here"));
        var policy = Policy(_roots, Path.GetDirectoryName(second)!);
        Assert.Equal(second, policy.Resolve("only-here", out _));
    }

    [Fact]
    public void APathOutsideEveryRootIsRefusedWithoutSayingWhetherItExists()
    {
        var policy = Policy();
        string existing = Refused(policy, _outside);
        string missing = Refused(policy, Path.Combine(_tmp, "nowhere"));
        Assert.Contains("outside", existing);
        Assert.Contains("engine.lora_roots", existing);
        Assert.Equal(existing.Replace(_outside, "X"), missing.Replace(Path.Combine(_tmp, "nowhere"), "X"));
        Assert.Contains("outside", Refused(policy, "/etc"));
    }

    [Fact]
    public void ASiblingFolderSharingTheRootsPrefixIsOutside()
    {
        string evil = Adapter(_roots + "-evil");
        Assert.Contains("outside", Refused(Policy(), evil));
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("a/../../outside")]
    [InlineData("a/..")]
    [InlineData("a\\..\\..\\outside")]
    public void DotDotSegmentsAreRefusedOutright(string path)
    {
        Assert.Contains("'..'", Refused(Policy(), path));
        Assert.Contains("'..'", Refused(Policy(), Path.Combine(_roots, path)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("a\0b")]
    [InlineData("a\nb")]
    public void EmptyOrControlCharactersAreRefused(string path) => Assert.Contains("'lora_path'", Refused(Policy(), path));

    [Fact]
    public void AMissingFolderOrAFileIsNamed()
    {
        Assert.Contains("no such folder", Refused(Policy(), "missing"));
        Assert.Contains("is a file", Refused(Policy(), "a/adapter_config.json"));
    }

    [Fact]
    public void ALinkedFolderThatLeadsOutsideIsRefused()
    {
        Directory.CreateSymbolicLink(Path.Combine(_roots, "escape"), _outside);
        Directory.CreateSymbolicLink(Path.Combine(_roots, "escape-relative"), "../outside");
        Assert.Contains("symbolic link", Refused(Policy(), "escape"));
        Assert.Contains("symbolic link", Refused(Policy(), "escape-relative"));
        Assert.Contains("symbolic link", Refused(Policy(), Path.Combine(_roots, "escape")));
    }

    [Fact]
    public void ALinkThroughALinkWithDotDotInItsTargetIsFollowedLikeTheKernelDoes()
    {
        // deep -> a/sub (real: roots/a/sub) ; hop -> deep/../.. : the kernel resolves ".." from roots/a/sub, so
        // hop is roots/, inside; a lexical ".." would wrongly give the folder above roots.
        Directory.CreateDirectory(Path.Combine(_roots, "a", "sub"));
        Directory.CreateSymbolicLink(Path.Combine(_roots, "deep"), "a/sub");
        Directory.CreateSymbolicLink(Path.Combine(_roots, "hop"), "deep/../..");
        Assert.Equal(_roots, LoraPathPolicy.RealPath(Path.Combine(_roots, "hop")));
        Directory.CreateSymbolicLink(Path.Combine(_roots, "hop-out"), "deep/../../..");
        Assert.Contains("symbolic link", Refused(Policy(), "hop-out"));
    }

    [Fact]
    public void ALinkThatStaysInsideIsAllowedAndResolved()
    {
        Directory.CreateSymbolicLink(Path.Combine(_roots, "alias"), Path.Combine(_roots, "a"));
        Assert.Equal(Path.Combine(_roots, "a"), Policy().Resolve("alias", out var error));
        Assert.Null(error);
    }

    [Fact]
    public void ARootThatIsItselfALinkWorks()
    {
        string linkRoot = Path.Combine(_tmp, "root-link");
        Directory.CreateSymbolicLink(linkRoot, _roots);
        Assert.Equal(Path.Combine(_roots, "a"), Policy(linkRoot).Resolve(Path.Combine(linkRoot, "a"), out _));
        Assert.Equal(Path.Combine(_roots, "a"), Policy(linkRoot).Resolve("a", out _));
    }

    [Fact]
    public void AFileInTheAdapterFolderLinkedOutsideIsRefusedByName()
    {
        string folder = Path.Combine(_roots, "linked-weights");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "adapter_config.json"), "{}");
        File.CreateSymbolicLink(Path.Combine(folder, "adapter_model.safetensors"), Path.Combine(_outside, "adapter_model.safetensors"));
        string error = Refused(Policy(), "linked-weights");
        Assert.Contains("'adapter_model.safetensors'", error);
        Assert.Contains("symbolic link", error);
    }

    [Fact]
    public void ALinkLoopIsNotFollowedForever()
    {
        Directory.CreateSymbolicLink(Path.Combine(_roots, "loop1"), "loop2");
        Directory.CreateSymbolicLink(Path.Combine(_roots, "loop2"), "loop1");
        Assert.Null(LoraPathPolicy.RealPath(Path.Combine(_roots, "loop1")));
        Assert.Contains("no such folder", Refused(Policy(), "loop1"));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_tmp, recursive: true);
        }
        catch (IOException)
        {
            // litter in the temp folder only
        }
    }
}
