using QwenAspire.Engine.Model.Kernels;
using static TorchSharp.torch;

namespace QwenAspire.UnitTests.Model.Kernels;

/// <summary>
/// The paged decode attention kernel (each SIMD width the CPU has, and the scalar reference) against a
/// torch reference in f64 that gathers each sequence's slots: odd head dims, groups, block sizes, and
/// context lengths that end mid-block, over shuffled block tables.
/// </summary>
public sealed class PagedAttentionKernelTests
{
    [Theory]
    [InlineData(4, 2, 32, 16, false, new[] { 1, 16, 17, 40 })]
    [InlineData(16, 8, 128, 16, true, new[] { 3, 31, 100, 300, 333 })] // enough K/V to split over threads
    [InlineData(12, 4, 128, 16, false, new[] { 1, 15, 16, 17, 48 })]  // head_dim 128 (Attention128), 3 heads per kv head, f32
    [InlineData(6, 2, 24, 5, false, new[] { 7, 11, 2, 26 })]   // head_dim 24: 256-bit lanes only
    [InlineData(3, 3, 8, 3, true, new[] { 1, 9, 10 })]         // no grouping, tiny blocks
    [InlineData(8, 1, 48, 7, false, new[] { 50, 13 })]         // one kv head shared by eight
    [InlineData(4, 2, 20, 4, false, new[] { 5, 6 })]           // head_dim 20: scalar only
    public void EveryWidthMatchesTheTorchReference(int heads, int kvHeads, int headDim, int blockSize, bool bf16, int[] contexts)
    {
        using var scope = NewDisposeScope();
        var random = new Random(heads * 1000 + headDim);
        var blocksNeeded = contexts.Sum(c => (c + blockSize - 1) / blockSize);
        var blockCount = blocksNeeded + 3;
        var order = Enumerable.Range(0, blockCount).OrderBy(_ => random.Next()).ToArray();
        // Each sequence takes a consecutive run of the shuffled block order: distinct, non-identity tables.
        var tables = new int[contexts.Length][];
        var next = 0;
        for (var s = 0; s < contexts.Length; s++)
        {
            var n = (contexts[s] + blockSize - 1) / blockSize;
            tables[s] = order[next..(next + n)];
            next += n;
        }
        var dtype = bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        var keys = randn(blockCount * blockSize, kvHeads, headDim).to(dtype).contiguous();
        var values = randn(blockCount * blockSize, kvHeads, headDim).to(dtype).contiguous();
        // Rows: sequence s's query is row 2s + 1 of a (2S + 1)-row step (other rows untouched by the kernel).
        var n2 = 2 * contexts.Length + 1;
        var q = randn(n2, heads, headDim).contiguous();
        var rows = Enumerable.Range(0, contexts.Length).Select(s => 2 * s + 1).ToArray();
        var scale = (float)(1 / Math.Sqrt(headDim));

        var expected = Reference(q, keys, values, rows, contexts, tables, blockSize, heads, kvHeads, headDim, scale);
        var widths = new List<AttentionWidth> { AttentionWidth.Scalar };
        if (PagedAttentionKernel.Widest(headDim) == AttentionWidth.V512) widths.AddRange([AttentionWidth.V512, AttentionWidth.V256]);
        else if (PagedAttentionKernel.Widest(headDim) == AttentionWidth.V256) widths.Add(AttentionWidth.V256);
        foreach (var width in widths)
        {
            foreach (var threads in new[] { 1, 3 })
            {
                var output = full(n2, heads * headDim, 7f).contiguous();
                PagedAttentionKernel.Run(q, output, keys, values, blockSize, rows, contexts, tables, width, threads);
                for (var s = 0; s < contexts.Length; s++)
                {
                    var error = (output[rows[s]].to(ScalarType.Float64) - expected[s]).abs().max().item<double>();
                    Assert.True(error < 1e-5, $"{width} threads {threads} sequence {s} (context {contexts[s]}): max|Δ| {error}");
                }
                // Rows of other sequences (prefill rows in a real step) are left alone.
                Assert.True(output[0].eq(7f).all().item<bool>(), $"{width}: row 0 was written");
            }
        }
    }

    /// <summary>Per sequence: (H·D) f64, by gathering its slots and plain softmax attention.</summary>
    private static Tensor[] Reference(Tensor q, Tensor keys, Tensor values, int[] rows, int[] contexts, int[][] tables, int blockSize, int heads, int kvHeads, int headDim, float scale)
    {
        var group = heads / kvHeads;
        var result = new Tensor[contexts.Length];
        for (var s = 0; s < contexts.Length; s++)
        {
            var slots = Enumerable.Range(0, contexts[s]).Select(p => (long)tables[s][p / blockSize] * blockSize + p % blockSize).ToArray();
            using var index = tensor(slots);
            var k = keys.index_select(0, index).to(ScalarType.Float64).transpose(0, 1);             // (KV, C, D)
            var v = values.index_select(0, index).to(ScalarType.Float64).transpose(0, 1);           // (KV, C, D)
            var qs = q[rows[s]].to(ScalarType.Float64).view(kvHeads, group, headDim);               // (KV, G, D)
            var p = qs.matmul(k.transpose(1, 2)).mul(scale).softmax(-1);                             // (KV, G, C)
            result[s] = p.matmul(v).reshape(heads * headDim);                                        // (H·D)
        }
        return result;
    }
}
