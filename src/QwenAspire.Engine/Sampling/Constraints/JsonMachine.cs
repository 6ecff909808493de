namespace QwenAspire.Engine.Sampling.Constraints;

/// <summary>
/// The byte-level pushdown automaton for JSON shaped by <see cref="SchemaNode"/>s: <see cref="Feed"/> gives
/// every stack the next byte can lead to (several while a union is undecided; none: the byte is refused).
/// Output is compact apart from short whitespace runs between tokens of a container (at most
/// <see cref="MaxWhitespaceRun"/>), has no whitespace around the top-level value, and numbers have bounded
/// digit counts, so a sampler that keeps choosing whitespace or digits still has to move on.
/// </summary>
internal static partial class JsonMachine
{
    public const byte RootExpect = 0, RootDone = 1;
    public const int MaxWhitespaceRun = 24;
    public const int MaxIntegerDigits = 16, MaxFractionDigits = 16, MaxExponentDigits = 3;
    /// <summary>
    /// Objects and arrays nest at most this deep: System.Text.Json reads 64 levels by default, and stacks (and
    /// their recursive equality) stay short whatever a model keeps opening.
    /// </summary>
    public const int MaxNestingDepth = 32;

    // Object phases.
    private const byte ObjOpen = 0, ObjKey = 1, ObjAfterKey = 2, ObjBeforeValue = 3, ObjAfterValue = 4, ObjAfterComma = 5;
    // Array phases.
    private const byte ArrOpen = 0, ArrAfterItem = 1, ArrAfterComma = 2;
    // String phases.
    private const byte StrNormal = 0, StrEscape = 1, StrUtf8 = 2, StrHex = 3;
    // Number phases; Zero, Int, Frac and Exp are complete (the number may end there).
    private const byte NumMinus = 0, NumZero = 1, NumInt = 2, NumFrac0 = 3, NumFrac = 4, NumExp0 = 5, NumExpSign = 6, NumExp = 7;

    /// <summary>True when the text so far is one complete value (a trailing number ends at eos).</summary>
    public static bool IsAccepting(Frame f) => f.Kind switch
    {
        FrameKind.Root => f.Phase == RootDone,
        FrameKind.Number => NumberComplete(f.Phase) && IsAccepting(f.Parent!),
        FrameKind.Dfa => ((DfaNode)f.Node).Dfa.IsAccepting((int)f.Mask) && IsAccepting(f.Parent!),
        FrameKind.Repeat => f.Pos >= ((RepeatNode)f.Node).Min && IsAccepting(f.Parent!),
        _ => false,
    };

    /// <summary>Adds to <paramref name="output"/> each stack that <paramref name="f"/> becomes on byte <paramref name="b"/>.</summary>
    public static void Feed(Frame f, byte b, List<Frame> output)
    {
        switch (f.Kind)
        {
            case FrameKind.Root:
                if (f.Phase == RootExpect) Start(f.Node, b, f with { Phase = RootDone }, output);
                break;
            case FrameKind.Object: FeedObject(f, (ObjectNode)f.Node, b, output); break;
            case FrameKind.Array: FeedArray(f, (ArrayNode)f.Node, b, output); break;
            case FrameKind.String: FeedString(f, (StringNode)f.Node, b, output); break;
            case FrameKind.Number: FeedNumber(f, (NumberNode)f.Node, b, output); break;
            case FrameKind.Literal:
                var bytes = ((LiteralNode)f.Node).Bytes;
                if (bytes[f.Pos] != b) break;
                output.Add(f.Pos + 1 == bytes.Length ? f.Parent! : f with { Pos = f.Pos + 1 });
                break;
            case FrameKind.Dfa:
            {
                var dfa = ((DfaNode)f.Node).Dfa;
                var next = b < 128 ? dfa.Step((int)f.Mask, b) : -1;
                if (next >= 0) output.Add(f with { Mask = next });
                if (dfa.IsAccepting((int)f.Mask)) Feed(f.Parent!, b, output); // a complete value ends at the parent's byte
                break;
            }
            case FrameKind.Sequence:
                StartItem((SequenceNode)f.Node, f.Pos, b, f.Parent!, output);
                break;
            case FrameKind.Repeat:
            {
                var r = (RepeatNode)f.Node;
                if (f.Pos < r.Max) Start(r.Next, b, f.Pos + 1 == r.Max ? f.Parent! : f with { Pos = f.Pos + 1 }, output);
                if (f.Pos >= r.Min) Feed(f.Parent!, b, output);
                break;
            }
        }
    }

    /// <summary>Item <paramref name="i"/> of a sequence; a frame remembers the rest unless it is the last.</summary>
    private static void StartItem(SequenceNode s, int i, byte b, Frame after, List<Frame> output) =>
        Start(s.Items[i], b, i + 1 == s.Items.Length ? after : new Frame(FrameKind.Sequence, s, 0, i + 1, 0, 0, 0, after, after.Depth), output);

    /// <summary>Begins a value of <paramref name="node"/> with byte <paramref name="b"/>; <paramref name="after"/> is the parent once it ends.</summary>
    private static void Start(SchemaNode node, byte b, Frame after, List<Frame> output)
    {
        switch (node)
        {
            case AnyNode:
                switch (b)
                {
                    case (byte)'{': Start(AnyNode.FreeObject, b, after, output); break;
                    case (byte)'[': Start(AnyNode.FreeArray, b, after, output); break;
                    case (byte)'"': Start(AnyNode.FreeString, b, after, output); break;
                    case (byte)'t': Start(AnyNode.True, b, after, output); break;
                    case (byte)'f': Start(AnyNode.False, b, after, output); break;
                    case (byte)'n': Start(AnyNode.Null, b, after, output); break;
                    default: Start(AnyNode.FreeNumber, b, after, output); break;
                }
                break;
            case ObjectNode o when b == '{' && after.Depth < MaxNestingDepth:
                output.Add(new Frame(FrameKind.Object, o, ObjOpen, 0, 0, 0, 0, after, after.Depth + 1));
                break;
            case ArrayNode a when b == '[' && after.Depth < MaxNestingDepth:
                output.Add(new Frame(FrameKind.Array, a, ArrOpen, 0, 0, 0, 0, after, after.Depth + 1));
                break;
            case StringNode s when b == '"': output.Add(new Frame(FrameKind.String, s, StrNormal, 0, 0, 0, 0, after)); break;
            case NumberNode n:
                if (b == '-') output.Add(new Frame(FrameKind.Number, n, NumMinus, 0, 0, 0, 0, after));
                else if (b == '0') output.Add(new Frame(FrameKind.Number, n, NumZero, 1, 0, 0, 0, after));
                else if (b is >= (byte)'1' and <= (byte)'9') output.Add(new Frame(FrameKind.Number, n, NumInt, 1, 0, 0, 0, after));
                break;
            case LiteralNode l when l.Bytes[0] == b:
                output.Add(l.Bytes.Length == 1 ? after : new Frame(FrameKind.Literal, l, 0, 1, 0, 0, 0, after));
                break;
            case UnionNode u:
                foreach (var option in u.Options) Start(option, b, after, output);
                break;
            case DfaNode d when b < 128 && d.Dfa.Step(0, b) is var first && first >= 0:
                output.Add(new Frame(FrameKind.Dfa, d, 0, 0, 0, 0, first, after));
                break;
            case SequenceNode seq:
                StartItem(seq, 0, b, after, output);
                break;
            case RepeatNode rep:
                Start(rep.Item, b, rep.Max == 1 ? after : new Frame(FrameKind.Repeat, rep, 0, 1, 0, 0, 0, after, after.Depth), output);
                break;
            case RefNode r:
                Start(r.Target ?? throw new InvalidOperationException("Unresolved $ref."), b, after, output);
                break;
        }
    }

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t';

    /// <summary>Whitespace keeps the phase (bounded run); true when <paramref name="b"/> was whitespace.</summary>
    private static bool Whitespace(Frame f, byte b, List<Frame> output)
    {
        if (!IsWhitespace(b)) return false;
        if (f.Ws < MaxWhitespaceRun) output.Add(f with { Ws = f.Ws + 1 });
        return true;
    }

    private static void FeedObject(Frame f, ObjectNode o, byte b, List<Frame> output)
    {
        switch (f.Phase)
        {
            case ObjOpen or ObjAfterComma:
                if (Whitespace(f, b, output)) return;
                if (b == '}' && f.Phase == ObjOpen && o.CanClose(f.Next)) output.Add(f.Parent!);
                else if (b == '"') OpenKey(f, o, output);
                return;
            case ObjKey:
            {
                long still = 0;
                for (var m = f.Mask; m != 0; m &= m - 1)
                {
                    var j = System.Numerics.BitOperations.TrailingZeroCount(m);
                    var key = o.Properties[j].KeyLiteral;
                    if (key[f.Pos] != b) continue;
                    if (key.Length == f.Pos + 1)
                    {
                        // The closing quote: an escaped key cannot hold a bare quote, so this key alone ends here.
                        output.Add(f with { Phase = ObjAfterKey, Pos = j, Next = j + 1, Mask = 0, Ws = 0 });
                        return;
                    }
                    still |= 1L << j;
                }
                if (still != 0) output.Add(f with { Pos = f.Pos + 1, Mask = still });
                return;
            }
            case ObjAfterKey:
                if (Whitespace(f, b, output)) return;
                if (b == ':') output.Add(f with { Phase = ObjBeforeValue, Ws = 0 });
                return;
            case ObjBeforeValue:
                if (Whitespace(f, b, output)) return;
                var value = o.FreeValues ?? o.Properties[f.Pos].Value;
                Start(value, b, f with { Phase = ObjAfterValue, Ws = 0 }, output);
                return;
            case ObjAfterValue:
                if (Whitespace(f, b, output)) return;
                if (b == '}' && o.CanClose(f.Next)) output.Add(f.Parent!);
                else if (b == ',' && (o.FreeValues is not null || o.CandidatesFrom(f.Next) != 0))
                    output.Add(f with { Phase = ObjAfterComma, Ws = 0 });
                return;
        }
    }

    private static void OpenKey(Frame f, ObjectNode o, List<Frame> output)
    {
        if (o.FreeValues is not null)
        {
            // Free keys: any string, then the object resumes after the key.
            output.Add(new Frame(FrameKind.String, AnyNode.FreeString, StrNormal, 0, 0, 0, 0, f with { Phase = ObjAfterKey, Ws = 0 }));
            return;
        }
        var candidates = o.CandidatesFrom(f.Next);
        if (candidates != 0) output.Add(f with { Phase = ObjKey, Pos = 0, Mask = candidates, Ws = 0 });
    }

    private static void FeedArray(Frame f, ArrayNode a, byte b, List<Frame> output)
    {
        if (Whitespace(f, b, output)) return;
        switch (f.Phase)
        {
            case ArrOpen:
                if (b == ']' && a.MinItems == 0) output.Add(f.Parent!);
                else if (a.MaxItems > 0 && b != ']') Start(a.Items, b, f with { Phase = ArrAfterItem, Pos = 1, Ws = 0 }, output);
                return;
            case ArrAfterItem:
                if (b == ']' && f.Pos >= a.MinItems) output.Add(f.Parent!);
                else if (b == ',' && f.Pos < a.MaxItems) output.Add(f with { Phase = ArrAfterComma, Ws = 0 });
                return;
            case ArrAfterComma:
                Start(a.Items, b, f with { Phase = ArrAfterItem, Pos = f.Pos + 1, Ws = 0 }, output);
                return;
        }
    }

    private static bool NumberComplete(byte phase) => phase is NumZero or NumInt or NumFrac or NumExp;

    private static void FeedNumber(Frame f, NumberNode n, byte b, List<Frame> output)
    {
        var digit = b is >= (byte)'0' and <= (byte)'9';
        switch (f.Phase)
        {
            case NumMinus:
                if (b == '0') output.Add(f with { Phase = NumZero, Pos = 1 });
                else if (digit) output.Add(f with { Phase = NumInt, Pos = 1 });
                return;
            case NumInt when digit:
                if (f.Pos < MaxIntegerDigits) output.Add(f with { Pos = f.Pos + 1 });
                return;
            case NumFrac0 when digit:
                output.Add(f with { Phase = NumFrac, Pos = 1 });
                return;
            case NumFrac when digit:
                if (f.Pos < MaxFractionDigits) output.Add(f with { Pos = f.Pos + 1 });
                return;
            case NumExp0 when b is (byte)'+' or (byte)'-':
                output.Add(f with { Phase = NumExpSign });
                return;
            case NumExp0 or NumExpSign when digit:
                output.Add(f with { Phase = NumExp, Pos = 1 });
                return;
            case NumExp when digit:
                if (f.Pos < MaxExponentDigits) output.Add(f with { Pos = f.Pos + 1 });
                return;
        }
        if (f.Phase == NumZero && digit) return; // no leading zeros
        if (!n.Integer && b == '.' && f.Phase is NumZero or NumInt) { output.Add(f with { Phase = NumFrac0, Pos = 0 }); return; }
        if (!n.Integer && b is (byte)'e' or (byte)'E' && f.Phase is NumZero or NumInt or NumFrac) { output.Add(f with { Phase = NumExp0, Pos = 0 }); return; }
        // Any other byte ends a complete number and belongs to the parent.
        if (NumberComplete(f.Phase)) Feed(f.Parent!, b, output);
    }
}
