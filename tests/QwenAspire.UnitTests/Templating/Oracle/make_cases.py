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
