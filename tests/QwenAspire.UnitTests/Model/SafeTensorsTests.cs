using System.Runtime.InteropServices;
using QwenAspire.Engine.Model.SafeTensors;
using static TorchSharp.torch;

namespace QwenAspire.UnitTests.Model;

[Collection(TinyModelsCollection.Name)]
public sealed class SafeTensorsTests(TinyModels models)
{
    [Fact]
    public void MixedDTypesRoundTripIncludingAnUnalignedTensor()
    {
        var file = Path.Combine(models.Scratch("roundtrip"), "mixed.safetensors");
        ushort[] bf16 = [0x3F80, 0xC000, 0x3E80];                 // 1, -2, 0.25
        var f16 = new[] { (Half)1.5, (Half)(-3), (Half)0.125, (Half)8 };
        float[] f32 = [1.25f, -7f, 3.5f, 0f, 42f, -0.5f];
        // Ordinal order a, b, c: "a" (6 bytes) pushes "b" and "c" off 4-byte alignment, exercising the copy path.
        SafeTensorsWriter.Write(file,
        [
            SafeTensorToWrite.BF16("a", [3], bf16),
            new SafeTensorToWrite("b", SafeTensorDType.F16, [2, 2], s => s.Write(MemoryMarshal.AsBytes(f16.AsSpan()))),
            SafeTensorToWrite.F32("c", [2, 3], f32),
        ]);
        using var st = SafeTensorsFile.Open(file);
        using var a = st.Get("a");
        using var b = st.Get("b");
        using var c = st.Get("c");
        Assert.Equal(ScalarType.BFloat16, a.dtype);
        Assert.Equal([1f, -2f, 0.25f], a.to(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal(ScalarType.Float16, b.dtype);
        Assert.Equal([2L, 2L], b.shape);
        Assert.Equal([1.5f, -3f, 0.125f, 8f], b.to(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal([2L, 3L], c.shape);
        Assert.Equal(f32, c.data<float>().ToArray());
        Assert.Equal("pt", st.Header.Metadata["format"]);
    }

    [Fact]
    public void AlignedTensorsAreViewsOfTheMappedFileNotCopies()
    {
        using var st = SafeTensorsFile.Open(Path.Combine(models.Base, "model.safetensors"));
        using var embed = st.Get("model.embed_tokens.weight");
        using var norm = st.Get("model.norm.weight");
        // A copy would start at storage offset 0; a view of the whole-file mapping starts at its byte offset / 4.
        Assert.Equal((st.Header.DataStart + st.Tensors["model.norm.weight"].Begin) / 4, norm.storage_offset());
        Assert.Equal((st.Header.DataStart + st.Tensors["model.embed_tokens.weight"].Begin) / 4, embed.storage_offset());
        Assert.Equal(-0.38714013f, embed[0, 0].item<float>());
    }
}
