namespace QwenAspire.Engine.Sampling.Constraints;

internal enum FrameKind : byte { Root, Object, Array, String, Number, Literal, Dfa, Sequence, Repeat }

/// <summary>
/// One level of the pushdown stack, immutable: a step makes new frames and shares the unchanged parents, so
/// the trie walk can branch a state at every byte without copying stacks. <see cref="Parent"/> is already in
/// the state the parent resumes in once this value ends. Value equality (the record's, with nodes compared by
/// reference) makes whole stacks usable as mask-cache keys.
/// </summary>
/// <param name="Phase">Position inside the value; meaning per kind (see <see cref="JsonMachine"/>).</param>
/// <param name="Pos">Object: key byte index or chosen property; array: items so far; string: characters so far
/// (bounded strings only); number: digits in the current part; literal: bytes matched; sequence: the item that
/// comes next; repeat: items written.</param>
/// <param name="Next">Object: first property not yet written. String: UTF-8 continuation bytes or hex digits still due.</param>
/// <param name="Ws">Containers: whitespace bytes in the current run. String: range rule for the next UTF-8 byte.</param>
/// <param name="Mask">Object: properties whose key still matches the bytes typed so far. String with a pattern, and Dfa: the pattern's state.</param>
/// <param name="Depth">Containers open around and including this frame (the root value's own object is 1).</param>
internal sealed record Frame(FrameKind Kind, SchemaNode Node, byte Phase, int Pos, int Next, int Ws, long Mask, Frame? Parent, int Depth = 0)
{
    public static Frame RootOf(SchemaNode node) => new(FrameKind.Root, node, JsonMachine.RootExpect, 0, 0, 0, 0, null);
}
