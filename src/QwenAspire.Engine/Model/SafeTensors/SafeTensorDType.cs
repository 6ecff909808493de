using TorchSharp;

namespace QwenAspire.Engine.Model.SafeTensors;

/// <summary>The safetensors element types this engine reads (weights are floating point only).</summary>
public enum SafeTensorDType { F32, BF16, F16 }

public static class SafeTensorDTypes
{
    public static bool TryParse(string text, out SafeTensorDType dtype)
    {
        switch (text)
        {
            case "F32": dtype = SafeTensorDType.F32; return true;
            case "BF16": dtype = SafeTensorDType.BF16; return true;
            case "F16": dtype = SafeTensorDType.F16; return true;
            default: dtype = default; return false;
        }
    }

    public static string Name(this SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F32 => "F32",
        SafeTensorDType.BF16 => "BF16",
        _ => "F16",
    };

    public static int ElementSize(this SafeTensorDType dtype) => dtype == SafeTensorDType.F32 ? 4 : 2;

    public static torch.ScalarType ToScalarType(this SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F32 => torch.ScalarType.Float32,
        SafeTensorDType.BF16 => torch.ScalarType.BFloat16,
        _ => torch.ScalarType.Float16,
    };
}
