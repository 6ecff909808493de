using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Kernels;
using static TorchSharp.torch;

namespace QwenAspire.UnitTests.Model.Kernels;

/// <summary>
/// The decode step's element-wise ops (vector and scalar reference) against the torch ops the torch path runs,
/// at sizes that leave a tail after the last full vector; bounds are a few f32 ulps of the values involved.
/// </summary>
public sealed unsafe class DecodeOpsTests
{
    private const float Eps = 1e-6f;

    /// <summary>0 scalar reference, 1 <c>Vector&lt;T&gt;</c>, 2 auto (what the fast path runs).</summary>
    private static DecodeOpsWidth Width(int w) => w switch { 0 => DecodeOpsWidth.Scalar, 1 => DecodeOpsWidth.Vector, _ => DecodeOpsWidth.Auto };

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void RmsNormAndAddRmsNormMatchTorch(int lanes)
    {
        var width = Width(lanes);
        using var scope = NewDisposeScope();
        const int Rows = 3, N = 77;
        var x = randn(Rows, N);
        var a = randn(Rows, N);
        var w = randn(N);
        var expected = Reference(x, w);
        var y = Run(x, w, (xp, wp, yp) => DecodeOps.RmsNorm(xp, wp, yp, Rows, N, Eps, width));
        AssertClose(expected, y, 1e-5);

        var h = x.clone();
        var expectedH = x + a;
        var normed = zeros(Rows, N);
        Apply(h, a, w, normed, (hp, ap, wp, yp) => DecodeOps.AddRmsNorm(hp, ap, wp, yp, Rows, N, Eps, width));
        AssertClose(expectedH, h, 1e-6);
        AssertClose(Reference(expectedH, w), normed, 1e-5);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void HeadNormRopeMatchesTheTorchNormAndRotation(int lanes)
    {
        var width = Width(lanes);
        using var scope = NewDisposeScope();
        const int Rows = 2, Heads = 3, D = 40;
        var rope = new RotaryEmbedding(D, 1_000_000);
        int[] positions = [5, 4097];
        var (cos, sin) = rope.Tables(positions, CPU);
        var x = randn(Rows, Heads, D).mul_(3);
        var w = randn(D);
        var expected = rope.Apply(Reference(x, w), cos, sin);
        var cosA = new float[Rows * D / 2];
        var sinA = new float[Rows * D / 2];
        rope.Fill(positions, cosA, sinA);
        Assert.Equal(cos.data<float>().ToArray(), cosA);
        var actual = x.clone();
        fixed (float* c = cosA)
        fixed (float* s = sinA)
        fixed (byte* xp = actual.bytes)
        fixed (byte* wp = w.bytes)
            DecodeOps.HeadNormRope((float*)xp, Rows, Heads, D, (float*)wp, c, s, Eps, width);
        AssertClose(expected, actual, 1e-5);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void SiluMulAndAddMatchTorch(int lanes)
    {
        var width = Width(lanes);
        using var scope = NewDisposeScope();
        const int Count = 1000 + 13;
        var g = randn(Count).mul_(6);
        var u = randn(Count);
        var expected = nn.functional.silu(g) * u;
        var sum = g + u;
        var actual = g.clone();
        fixed (byte* gp = actual.bytes)
        fixed (byte* up = u.bytes)
            DecodeOps.SiluMul((float*)gp, (float*)up, Count, width);
        AssertClose(expected, actual, 1e-5);
        var h = g.clone();
        fixed (byte* hp = h.bytes)
        fixed (byte* up = u.bytes)
            DecodeOps.Add((float*)hp, (float*)up, Count, width);
        AssertClose(sum, h, 0);
    }

    [Fact]
    public void StoredBf16RowsEqualTorchsConversionBitForBit()
    {
        using var scope = NewDisposeScope();
        const int Rows = 3, Width = 70, Slots = 8;
        // Random values plus exact ties (the low 16 bits 0x8000) on both sides of even, infinities and a NaN.
        var values = randn(Rows, Width).mul_(100).data<float>().ToArray();
        values[0] = BitConverter.UInt32BitsToSingle(0x3f808000); // tie, even below: stays
        values[1] = BitConverter.UInt32BitsToSingle(0x3f818000); // tie, odd below: rounds up
        values[2] = float.PositiveInfinity;
        values[3] = float.NegativeInfinity;
        values[4] = float.NaN;
        values[5] = BitConverter.UInt32BitsToSingle(0x7f7fffff); // rounds to infinity
        var src = tensor(values, [Rows, Width]);
        var pool = zeros([Slots, Width], ScalarType.BFloat16);
        int[] slots = [6, 1, 3];
        fixed (byte* s = src.bytes)
        fixed (byte* p = pool.bytes)
            DecodeOps.StoreRows((float*)s, Rows, Width, slots, p, bf16: true);
        var expected = zeros([Slots, Width], ScalarType.BFloat16);
        expected.index_copy_(0, tensor(slots.Select(x => (long)x).ToArray()), src.to(ScalarType.BFloat16));
        var got = pool.to(ScalarType.Float32).data<float>().ToArray();
        var want = expected.to(ScalarType.Float32).data<float>().ToArray();
        // Widening bf16 to f32 is exact, so equal f32 values mean equal bits (NaN aside).
        for (var i = 0; i < got.Length; i++)
        {
            if (i == 6 * Width + 4) Assert.True(float.IsNaN(got[i]));
            else Assert.Equal(BitConverter.SingleToUInt32Bits(want[i]), BitConverter.SingleToUInt32Bits(got[i]));
        }

        var poolF = zeros([Slots, Width]);
        fixed (byte* s = src.bytes)
        fixed (byte* p = poolF.bytes)
            DecodeOps.StoreRows((float*)s, Rows, Width, slots, p, bf16: false);
        Assert.Equal(src[1].data<float>().ToArray(), poolF[1].data<float>().ToArray());
    }

    private static Tensor Reference(Tensor x, Tensor w) =>
        x.mul(x.pow(2).mean([-1L], keepdim: true).add_(Eps).rsqrt_()).mul_(w);

    private delegate void Op3(float* x, float* w, float* y);
    private delegate void Op4(float* h, float* a, float* w, float* y);

    private static Tensor Run(Tensor x, Tensor w, Op3 op)
    {
        var y = zeros_like(x);
        fixed (byte* xp = x.bytes)
        fixed (byte* wp = w.bytes)
        fixed (byte* yp = y.bytes)
            op((float*)xp, (float*)wp, (float*)yp);
        return y;
    }

    private static void Apply(Tensor h, Tensor a, Tensor w, Tensor y, Op4 op)
    {
        fixed (byte* hp = h.bytes)
        fixed (byte* ap = a.bytes)
        fixed (byte* wp = w.bytes)
        fixed (byte* yp = y.bytes)
            op((float*)hp, (float*)ap, (float*)wp, (float*)yp);
    }

    private static void AssertClose(Tensor expected, Tensor actual, double relative)
    {
        var e = expected.data<float>().ToArray();
        var a = actual.data<float>().ToArray();
        Assert.Equal(e.Length, a.Length);
        for (var i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= relative * Math.Max(1, Math.Abs(e[i])), $"element {i}: expected {e[i]}, got {a[i]}");
    }
}
