namespace QwenAspire.UnitTests.Constraints;

/// <summary>Varied schemas (every supported keyword, nesting, recursion, unions) shared by the unit and functional tests' spirit.</summary>
internal static class SchemaCases
{
    public static readonly string[] All =
    [
        """{"type":"object","properties":{"name":{"type":"string","maxLength":10},"age":{"type":"integer"},"email":{"type":"string","maxLength":20}},"required":["name","age"],"additionalProperties":false}""",
        """{"type":"object","properties":{"color":{"enum":["red","green",3,null,{"a":[1]}]},"kind":{"const":"fixed"},"ok":{"type":"boolean"}},"required":["color","kind","ok"]}""",
        """{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string","maxLength":5},"minItems":1,"maxItems":3},"matrix":{"type":"array","items":{"type":"array","items":{"type":"number"},"maxItems":2},"maxItems":2}},"required":["tags"]}""",
        """{"type":"object","properties":{"v":{"anyOf":[{"type":"string","maxLength":4},{"type":"integer"},{"type":"null"}]},"shape":{"oneOf":[{"type":"object","properties":{"circle":{"type":"number"}},"required":["circle"],"additionalProperties":false},{"type":"object","properties":{"square":{"type":"number"}},"required":["square"],"additionalProperties":false}]}},"required":["v","shape"],"additionalProperties":false}""",
        """{"$defs":{"node":{"type":"object","properties":{"id":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["id"],"additionalProperties":false}},"$ref":"#/$defs/node"}""",
        """{"type":"object","properties":{"code":{"type":"string","minLength":3,"maxLength":3},"note":{"type":["string","null"],"maxLength":8}},"required":["code","note"]}""",
        """{"type":"array","items":{"type":"boolean"},"minItems":2,"maxItems":4}""",
        """{"type":"object","properties":{"meta":{"type":"object","additionalProperties":{"type":"integer"}},"empty":{"type":"object","additionalProperties":false}},"required":["meta","empty"]}""",
        """{"type":"object","properties":{"名前":{"type":"string","maxLength":5},"quote\"d":{"type":"boolean"},"n":{"type":"number"}},"required":["名前","quote\"d"],"additionalProperties":false}""",
        """{"title":"Pydantic-style","type":"object","properties":{"id":{"title":"Id","type":"integer"},"label":{"anyOf":[{"type":"string","maxLength":6},{"type":"null"}],"default":null,"title":"Label"},"status":{"$ref":"#/$defs/Status"}},"required":["id","status"],"$defs":{"Status":{"title":"Status","enum":["open","closed"],"type":"string"}}}""",
    ];
}
