"""Regenerates TestData/jinja/interpreter_cases.jsonl: each case rendered by Python Jinja2 configured
like Hugging Face transformers' chat templates (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
loopcontrols, json.dumps tojson, raise_exception). Run: python3 make_cases.py > ../../TestData/jinja/interpreter_cases.jsonl
"""
import json
import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.ext import Extension, loopcontrols
from jinja2 import nodes


class Raised(Exception):
    pass


def raise_exception(message):
    raise Raised(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


class Generation(Extension):
    """Like transformers' AssistantTracker with no tracking active: {% generation %} renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[Generation, loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception

LLAMA3 = """{{- bos_token }}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{{- system_message }}
{{- "<|eot_id|>" }}
{%- if tools_in_user_message and not tools is none %}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
{%- endif %}
{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {%- for arg_name, arg_val in tool_call.arguments | items %}
            {{- arg_name + '=' + arg_val | string }}
            {%- if not loop.last %}{{- ", " }}{%- endif %}
        {%- endfor %}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""

MISTRAL = """{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- endif %}
{%- endfor %}
"""

GEMMA = """{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}"""

DEEPSEEK = """{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') %}{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is not none %}{%- set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{'<｜Assistant｜>' + content}}{%- for tool in message['tool_calls']%}{{'<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}{%- endfor %}{{'<｜end▁of▁sentence｜>'}}{%- endif %}{%- if message['role'] == 'tool' %}{%- set ns.is_tool = true -%}{{'\\n<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}{%- endfor -%}{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\\n'}}{% endif %}"""

CASES = [
    # whitespace control
    ("trim_blocks_eats_newline_after_block", "{% if true %}\nyes\n{% endif %}\nend", {}),
    ("lstrip_blocks_eats_indent_before_block", "a\n    {% if true %}\n    b\n    {% endif %}\nc", {}),
    ("lstrip_not_for_print_tags", "a\n    {{ 'x' }}\n", {}),
    ("minus_strips_both_sides", "a  \n  {%- if true -%}  \n  b  \n  {%- endif -%}  \n  c", {}),
    ("minus_on_print", "a \n {{- 'x' -}} \n b", {}),
    ("plus_disables_lstrip", "a\n    {%+ if true %}b{% endif %}", {}),
    ("comment_trimmed_like_block", "a\n  {# note #}\nb", {}),
    ("comment_with_minus", "a  {#- note -#}  b", {}),
    ("trailing_newline_dropped", "x\n", {}),
    ("two_trailing_newlines_keep_one", "x\n\n", {}),
    ("crlf_normalized", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc", {}),
    ("raw_block", "{% raw %}{{ not rendered }}{% endraw %}", {}),
    ("text_after_print_same_line_not_stripped", "{{ 'a' }}   {% if true %}b{% endif %}", {}),
    ("block_on_first_line_indented", "   {% if true %}x{% endif %}", {}),
    ("nested_dict_literal_in_print", "{{ {'a': {'b': 1}} }}", {}),
    # loops
    ("loop_variables", "{% for x in items %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }} {% endfor %}", {"items": ["a", "b", "c"]}),
    ("loop_else_runs_when_empty", "{% for x in items %}{{ x }}{% else %}empty{% endfor %}", {"items": []}),
    ("loop_filter_counts_kept_items", "{% for x in items if x > 1 %}{{ x }}:{{ loop.length }} {% endfor %}", {"items": [1, 2, 3]}),
    ("loop_over_dict_items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("loop_over_dict_keys", "{% for k in d %}{{ k }}{% endfor %}", {"d": {"x": 1, "y": 2}}),
    ("loop_over_string", "{% for c in 'héllo😀' %}[{{ c }}]{% endfor %}", {}),
    ("loop_reverse_slice", "{% for x in items[::-1] %}{{ x }}{% endfor %}", {"items": [1, 2, 3]}),
    ("loop_cycle_prev_next", "{% for x in items %}{{ loop.cycle('o', 'e') }}{{ loop.previtem is defined }}{{ loop.nextitem | default('-') }} {% endfor %}", {"items": [1, 2, 3]}),
    ("nested_loops_inner_loop_shadows", "{% for a in [1, 2] %}{% for b in [3, 4] %}{{ loop.index }}{% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("set_in_loop_does_not_leak", "{% set x = 0 %}{% for i in [1, 2] %}{% set x = i %}{% endfor %}{{ x }}", {}),
    ("namespace_carries_out_of_loop", "{% set ns = namespace(total=0, seen=false) %}{% for i in [1, 2, 3] %}{% set ns.total = ns.total + i %}{% set ns.seen = true %}{% endfor %}{{ ns.total }} {{ ns.seen }}", {}),
    ("break_and_continue", "{% for i in range(10) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("range_forms", "{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(5, 0, -2) | list }}", {}),
    ("loop_target_rebound_in_body", "{% for t in calls %}{% if t.function %}{% set t = t.function %}{% endif %}{{ t.name }};{% endfor %}", {"calls": [{"function": {"name": "f"}}, {"name": "g"}]}),
    # set/if/macro
    ("if_elif_else", "{% for n in [1, 2, 3] %}{% if n == 1 %}one{% elif n == 2 %}two{% else %}many{% endif %} {% endfor %}", {}),
    ("set_block", "{% set greeting %}Hi {{ name }}{% endset %}{{ greeting | upper }}", {"name": "bob"}),
    ("set_tuple_unpack", "{% set a, b = [1, 2] %}{{ b }}{{ a }}", {}),
    ("macro_with_defaults", "{% macro tag(name, cls='x') %}<{{ name }} class={{ cls }}>{% endmacro %}{{ tag('a') }}{{ tag('b', cls='y') }}", {}),
    ("call_block_caller", "{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}inside{% endcall %}", {}),
    ("filter_block", "{% filter upper %}abc{{ 'd' }}{% endfilter %}", {}),
    ("generation_block_passthrough", "{% generation %}keep{% endgeneration %}", {}),
    # expressions and values
    ("int_vs_float_printing", "{{ 1 }} {{ 1.0 }} {{ 3 / 2 }} {{ 4 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1e-05 }} {{ 1e16 }} {{ 123456789.123 }} {{ 0.1 + 0.2 }}", {}),
    ("input_numbers_keep_type", "{{ a }} {{ b }} {{ c }} {{ a is integer }} {{ b is float }}", {"a": 3, "b": 3.0, "c": 2.5e-7}),
    ("none_true_false_print", "{{ none }} {{ true }} {{ false }} {{ x }}|{{ undefined_name }}|", {"x": None}),
    ("list_and_dict_print_like_python", "{{ [1, 'a', none, true, 2.5] }} {{ {'k': 'v', 'n': [1]} }} {{ ('t',) }} {{ \"it's\" }} {{ ['it\\'s'] }}", {}),
    ("string_concat_and_tilde", "{{ 'a' + 'b' }} {{ 'n' ~ 1 ~ none ~ missing }}", {}),
    ("truthiness", "{% for v in [[], [0], '', 'x', 0, 0.0, 1, none, {}, {'a': 1}] %}{{ 'T' if v else 'F' }}{% endfor %}", {}),
    ("comparisons_and_chains", "{{ 1 < 2 < 3 }} {{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ 2 in [1, 2] }} {{ 'x' not in 'abc' }} {{ 'k' in {'k': 1} }} {{ true == 1 }}", {}),
    ("and_or_return_operands", "{{ 0 or 'b' }} {{ 'a' and 'b' }} {{ none or [] }} {{ not 0 }}", {}),
    ("conditional_expression_without_else", "[{{ 'yes' if false }}]", {}),
    ("slicing", "{{ 'abcdef'[1:4] }} {{ 'abcdef'[::2] }} {{ 'abcdef'[-2:] }} {{ [1, 2, 3, 4][1:-1] }} {{ 'héllo'[::-1] }} {{ [1, 2, 3][5:] }}", {}),
    ("attribute_and_item_access", "{{ d.a }} {{ d['a'] }} {{ l[0] }} {{ l[-1] }} {{ l.0 }} {{ d.missing is defined }} {{ d.get('missing', 'dflt') }} {{ d.get('a') }}", {"d": {"a": 1}, "l": [5, 6]}),
    ("dict_method_names_win_over_keys", "{{ d['items'] }} {{ d.items() | list }}", {"d": {"items": "key"}}),
    ("string_methods", "{{ ' x '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '\\n\\nhi'.lstrip('\\n') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ 'aXbX'.replace('X', '-') }}|{{ 'Hi'.upper() }}{{ 'Hi'.lower() }}|{{ 'hello world'.title() }}|{{ 'a</think>b'.split('</think>')[-1] }}", {}),
    ("string_escapes_in_literals", "{{ 'tab\\there' }}|{{ \"quote\\\"d\" }}|{{ '\\u00e9\\x41' }}|{{ 'a' 'b' }}", {}),
    ("str_format_and_full_case_upper", "{{ '{} and {}'.format(1, 'b') }}|{{ '{1}{0}{x}{{}}'.format('a', 'b', x=none) }}|{{ 'straße'.upper() }}|{{ 'ß' | upper }}", {}),
    ("error_str_format_missing_index", "{{ '{} {}'.format(1) }}", {}),
    ("percent_format", "{{ '%s is %d' % ('x', 3) }}", {}),
    ("unary_minus_binds_before_filter", "{{ -3 | abs }} {{ items | length - 1 }}", {"items": [1, 2, 3]}),
    # tests
    ("tests_types", "{{ 'a' is string }} {{ 1 is number }} {{ true is number }} {{ 1 is integer }} {{ 1.5 is float }} {{ {} is mapping }} {{ [] is sequence }} {{ 'a' is iterable }} {{ none is none }} {{ x is undefined }} {{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ 3 is odd }} {{ 9 is divisibleby 3 }} {{ 2 is eq 2 }} {{ 'a' is in 'abc' }} {{ 'x' is not string }}", {}),
    ("enable_thinking_false_test", "{% if enable_thinking is defined and enable_thinking is false %}off{% else %}on{% endif %}", {"enable_thinking": False}),
    # filters
    ("filters_text", "{{ '  pad  ' | trim }}|{{ 'xyx' | trim('x') }}|{{ 'ab' | upper }}|{{ 'AB' | lower }}|{{ 5 | string }}|{{ 'hello' | capitalize }}|{{ 'a-b' | replace('-', '+') }}|{{ 'one two' | wordcount }}", {}),
    ("filters_join_first_last_length", "{{ [1, 2, 3] | join(', ') }}|{{ users | join(', ', attribute='name') }}|{{ [4, 5] | first }}|{{ [4, 5] | last }}|{{ 'abc' | length }}|{{ {'a': 1} | length }}|{{ [] | first is defined }}", {"users": [{"name": "a"}, {"name": "b"}]}),
    ("filters_default", "{{ missing | default('d') }}|{{ none | default('d') }}|{{ '' | default('d', true) }}|{{ missing | d('x') }}", {}),
    ("filters_items_list", "{{ {'a': 1, 'b': 2} | items | list }}|{{ 'ab' | list }}", {}),
    ("filters_selectattr_rejectattr_map", "{{ msgs | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }}|{{ msgs | rejectattr('role', 'eq', 'user') | map(attribute='content') | join }}|{{ msgs | selectattr('flag') | list | length }}|{{ msgs | map(attribute='nested.k', default='none') | list }}", {"msgs": [{"role": "user", "content": "u1", "flag": True, "nested": {"k": 1}}, {"role": "assistant", "content": "a1"}, {"role": "user", "content": "u2"}]}),
    ("filters_map_filter_name", "{{ ['a', 'b'] | map('upper') | join }}", {}),
    ("filters_numeric", "{{ -2 | abs }} {{ '42' | int }} {{ 'x' | int(7) }} {{ 3 | float }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ [3, 1, 2] | sort }} {{ [1, 2] | sum }} {{ [3, 9, 1] | max }} {{ [3, 9, 1] | min }} {{ [1, 1, 2] | unique | list }} {{ [1, 2] | reverse | list }} {{ 'ab' | reverse }}", {}),
    ("filters_sort_by_attribute", "{{ people | sort(attribute='age') | map(attribute='n') | join }}{{ people | sort(attribute='age', reverse=true) | map(attribute='n') | join }}", {"people": [{"n": "a", "age": 3}, {"n": "b", "age": 1}, {"n": "c", "age": 2}]}),
    ("filters_indent", "{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}", {}),
    # tojson
    ("tojson_nested_unicode", "{{ v | tojson }}", {"v": {"name": "café 😀", "list": [1, 2.0, None, True, False], "nested": {"a": {"b": []}, "e": {}}}}),
    ("tojson_escapes", "{{ v | tojson }}", {"v": "q\" b\\ n\n r\r t\t \b \f \u0001 \u001f \u007f \u2028 </script> & '"}),
    ("tojson_floats", "{{ v | tojson }}", {"v": [1.0, 1e-05, 1e16, 1e15, 0.0001, 123.456, -0.0, 2.5e-7, 1.7976931348623157e308, 5e-324, 100.0, 0.1]}),
    ("tojson_literals", "{{ 1.0 | tojson }} {{ 1 | tojson }} {{ none | tojson }} {{ true | tojson }} {{ 'x' | tojson }} {{ (1, 2) | tojson }}", {}),
    ("tojson_indent", "{{ v | tojson(indent=2) }}", {"v": {"a": [1, {"b": None}], "c": {}, "d": []}}),
    ("tojson_indent_string_and_sort", "{{ v | tojson(indent='\\t', sort_keys=true) }}", {"v": {"b": 1, "a": [True]}}),
    ("tojson_separators", "{{ v | tojson(separators=(',', ':')) }}", {"v": {"a": [1, 2]}}),
    ("tojson_ensure_ascii", "{{ v | tojson(ensure_ascii=true) }}", {"v": "é😀\u007f"}),
    ("tojson_int_keys", "{{ {1: 'a', 2.5: 'b', true: 'c'} | tojson }}", {}),
    # idioms from other families' chat templates (Llama 3.1, Mistral, Gemma, DeepSeek-R1), reduced
    ("llama3_style", LLAMA3, {"bos_token": "<|begin_of_text|>", "messages": [{"role": "system", "content": "  Be brief.  "}, {"role": "user", "content": "Weather?"}, {"role": "assistant", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2, "metric": True}}}]}, {"role": "ipython", "content": {"temp": 18.5}}], "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}], "add_generation_prompt": True}),
    ("mistral_style_alternation", MISTRAL, {"bos_token": "<s>", "eos_token": "</s>", "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]}),
    ("mistral_style_alternation_error", MISTRAL, {"bos_token": "<s>", "eos_token": "</s>", "messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}),
    ("gemma_style", GEMMA, {"bos_token": "<bos>", "messages": [{"role": "user", "content": " hi "}, {"role": "assistant", "content": "hello\n"}], "add_generation_prompt": True}),
    ("gemma_style_system_rejected", GEMMA, {"bos_token": "<bos>", "messages": [{"role": "system", "content": "x"}]}),
    ("deepseek_style", DEEPSEEK, {"bos_token": "<｜begin▁of▁sentence｜>", "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}, {"role": "assistant", "content": "<think>r</think>A", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]}, {"role": "tool", "content": "R"}], "add_generation_prompt": True}),
    # errors
    ("error_raise_exception", "{% if x %}{{ raise_exception('bad: ' ~ x) }}{% endif %}", {"x": "input"}),
    ("error_none_in", "{{ 'a' in x }}", {"x": None}),
    ("error_concat_none", "{{ 'a' + x }}", {"x": None}),
    ("error_undefined_attribute_of_undefined", "{{ missing.attr }}", {}),
    ("error_add_undefined", "{{ 1 + missing }}", {}),
    ("error_unknown_filter", "{{ 1 | nosuchfilter }}", {}),
    ("error_unknown_tag", "{% frobnicate %}", {}),
    ("error_unclosed_if", "{% if true %}x", {}),
    ("error_unterminated_string", "{{ 'abc }}", {}),
    ("error_iterate_none", "{% for x in v %}{% endfor %}", {"v": None}),
    ("error_set_attribute_on_dict", "{% set d.a = 1 %}", {"d": {}}),
    ("error_mixed_compare", "{{ 1 < 'a' }}", {}),
]


def run(template, variables):
    try:
        return {"expected": env.from_string(template).render(**variables)}
    except jinja2.TemplateSyntaxError as e:
        return {"error": "syntax", "line": e.lineno, "message": str(e)}
    except Raised as e:
        return {"error": "raise", "message": str(e)}
    except Exception as e:  # noqa: BLE001 - every other failure is a runtime error
        return {"error": "runtime", "message": f"{type(e).__name__}: {e}"}


if __name__ == "__main__":
    for name, template, variables in CASES:
        print(json.dumps({"name": name, "template": template, "vars": variables, **run(template, variables)}, ensure_ascii=False))
