"""Regenerates TestData/jinja/qwen3_random_cases.jsonl: seeded random conversations rendered by Python
Jinja2 with the current Qwen3 template and the April 2025 one, configured like transformers.
Run from this folder: python3 make_qwen3_random_cases.py > ../../TestData/jinja/qwen3_random_cases.jsonl
"""
import json
import random

from make_cases import env  # same environment as the interpreter cases

ROOT = "../../TestData/qwen3/"
CURRENT = open("../../../../assets/qwen3/chat_template.jinja", encoding="utf-8").read()
APRIL = open(ROOT + "chat_template_2025_04.jinja", encoding="utf-8").read()
TEMPLATES = {"current": env.from_string(CURRENT), "2025_04": env.from_string(APRIL)}

rng = random.Random(20251125)
WORDS = ["hello", "天气", "😀", "tab\there", "line\nbreak", "<think>", "</think>", "<tool_response>", "</tool_response>",
         "quote\"s", "back\\slash", "\u2028", "\x01", "é", "  ", "\n\n", "ok"]
FLOATS = [1.0, 0.5, 1e-05, 1e16, 1e15, 0.1, -0.0, 2.5e-7, 123456.789, 3.14159, -1.5, 1e100]


def text(n=None):
    return "".join(rng.choice(WORDS) for _ in range(n or rng.randint(0, 6)))


def value(depth=0):
    kind = rng.randint(0, 7 if depth < 2 else 4)
    if kind == 0: return text()
    if kind == 1: return rng.randint(-1000, 10**12)
    if kind == 2: return rng.choice(FLOATS)
    if kind == 3: return rng.choice([True, False])
    if kind == 4: return None
    if kind == 5: return [value(depth + 1) for _ in range(rng.randint(0, 3))]
    return {text(1) or "k": value(depth + 1) for _ in range(rng.randint(0, 3))}


def tool_call():
    args = {"city": text(), "n": value(1)} if rng.random() < 0.7 else json.dumps({"x": value(1)}, ensure_ascii=False)
    fn = {"name": rng.choice(["get_weather", "calc", "搜索"]), "arguments": args}
    return {"type": "function", "function": fn} if rng.random() < 0.8 else fn


def message(role):
    m = {"role": role}
    r = rng.random()
    if r < 0.75: m["content"] = text()
    elif r < 0.85: m["content"] = None
    elif r < 0.95: m["content"] = [{"type": "text", "text": text()}]
    if role == "assistant":
        if rng.random() < 0.3: m["reasoning_content"] = rng.choice([text(), None, "\nthought\n"])
        if rng.random() < 0.35: m["tool_calls"] = [tool_call() for _ in range(rng.randint(1, 2))]
    return m


def conversation():
    msgs = [message("system")] if rng.random() < 0.5 else []
    for _ in range(rng.randint(1, 7)):
        msgs.append(message(rng.choices(["user", "assistant", "tool", "system"], [4, 4, 2, 1])[0]))
    return msgs


def tools():
    if rng.random() < 0.4: return None
    return [{"type": "function", "function": {"name": text(1) or "f", "description": text(), "parameters": value()}}
            for _ in range(rng.randint(0, 2))]


for i in range(200):
    case = {"name": f"random_{i:03d}", "messages": conversation(), "tools": tools(), "add_generation_prompt": rng.random() < 0.6}
    if rng.random() < 0.5: case["enable_thinking"] = rng.random() < 0.5
    kwargs = {"enable_thinking": case["enable_thinking"]} if "enable_thinking" in case else {}
    for key, template in TEMPLATES.items():
        try:
            case["rendered_" + key] = template.render(messages=case["messages"], tools=case["tools"], add_generation_prompt=case["add_generation_prompt"],
                                                      eos_token="<|im_end|>", pad_token="<|endoftext|>", **kwargs)
        except Exception as e:  # noqa: BLE001
            case["error_" + key] = f"{type(e).__name__}: {e}"
    print(json.dumps(case, ensure_ascii=False))
