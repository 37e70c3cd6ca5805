// The Jinja subset construct by construct, each row against what Jinja2
// renders with transformers' settings (computed by
// scripts/chat_template_expected.py with the variables below), then the
// errors: each names the construct and its line:col.
#include <gtest/gtest.h>

#include "chat/jinja_template.h"
#include "core/error.h"
#include "test_util.h"

namespace gptq {
namespace {

using jinja::Dict;
using jinja::List;
using jinja::None;
using jinja::Template;
using jinja::Value;

Dict variables() {
  const List messages = {Dict{{"role", "system"}, {"content", "You are helpful."}},
                         Dict{{"role", "user"}, {"content", "Hi there"}},
                         Dict{{"role", "assistant"}, {"content", "Hello! How can I help?"}},
                         Dict{{"role", "user"}, {"content", "Tell me a joke."}}};
  return {{"messages", messages},
          {"add_generation_prompt", true},
          {"bos_token", "<s>"},
          {"eos_token", "</s>"},
          {"x", List{3, 1, 2}},
          {"d", Dict{{"b", 1}, {"a", List{1, 2, Dict{{"k", None{}}}}}}},
          {"s", "  Héllo World  "},
          {"n", None{}},
          {"t", true},
          {"f", 1.5},
          {"i", 7}};
}

std::string render(const std::string& source) { return Template(source).render(variables()); }

struct Case {
  const char* source;
  const char* expected;
};

const Case kCases[] = {
    {"{{ 'é'|upper }}{{ 'ÉCOLE'|lower }}{{ 'ǆa'|capitalize }}{{ 'ǆa ǆb'.title() }}", "Éécoleǅaǅa ǅb"},
    {"{{ strftime_now is defined }} {{ raise_exception is defined }} {{ range is callable }} {% macro m() %}x{% endmacro %}{{ m is defined }}{{ m() }} {% if strftime_now is defined %}{{ strftime_now('%Y')|length }}{% endif %} {{ undefined_fn is defined }}",
     "True True True Truex 4 False"},
    {"{{ {'a': {'b': 1}} }}|{{ {'a': {'b': 1}}|tojson }}|{% set d = {'x': {'y': 2}} %}{{ d.x.y }}",
     "{'a': {'b': 1}}|{\"a\": {\"b\": 1}}|2"},
    {"{{ 1 + 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1.5 * 2 }} {{ 10 / 5 }}",
     "3 3 -4 1 2 3.5 1024 3.0 2.0"},
    {"{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ [1] + [2] }}", "a1NoneTrue ababab [1, 2]"},
    {"{{ x }} {{ d }} {{ n }} {{ t }} {{ f }} {{ s }} {{ undefined_thing }}|",
     "[3, 1, 2] {'b': 1, 'a': [1, 2, {'k': None}]} None True 1.5   Héllo World   |"},
    {"{{ x[0] }} {{ x[-1] }} {{ x[1:] }} {{ x[::-1] }} {{ x[:2] }} {{ s[2:5] }} {{ s[::-1] }} {{ x[5] }}|",
     "3 2 [1, 2] [2, 1, 3] [3, 1] Hél   dlroW olléH   |"},
    {"{{ d.b }} {{ d['a'][2].k }} {{ d.zz }}| {{ d.zz is defined }} {{ d.b is defined }}", "1 None | False True"},
    {"{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }}/{{ loop.revindex }} {{ m.role }}\n{% endfor %}",
     "1/0/True/False/4/4 system\n2/1/False/False/4/3 user\n3/2/False/False/4/2 assistant\n4/3/False/True/4/1 user\n"},
    {"{% for m in [] %}x{% else %}empty{% endfor %}", "empty"},
    {"{% for a, b in d.items() %}{{ a }}={{ b }};{% endfor %}", "b=1;a=[1, 2, {'k': None}];"},
    {"{% for k in d %}{{ k }},{% endfor %}", "b,a,"},
    {"{% for c in 'héllo' %}[{{ c }}]{% endfor %}", "[h][é][l][l][o]"},
    {"{% if i > 5 %}big{% elif i > 2 %}mid{% else %}small{% endif %}", "big"},
    {"{% set ns = namespace(found=false, n=0) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.found = true %}{% set ns.n = ns.n + 1 %}{% endif %}{% endfor %}{{ ns.found }} {{ ns.n }}",
     "True 2"},
    {"{% set a = 1 %}{% for q in [1,2] %}{% set a = a + q %}{{ a }}{% endfor %}{{ a }}", "231"},
    {"{{ 'yes' if t else 'no' }} {{ 'yes' if n else 'no' }} [{{ 'x' if n }}]", "yes no []"},
    {"{{ 1 in x }} {{ 5 not in x }} {{ 'b' in d }} {{ 'ell' in 'hello' }} {{ not t }} {{ t and n }} {{ n or 'z' }}",
     "True True True True False None z"},
    {"{{ s | trim }}|{{ s | length }}|{{ s | upper }}|{{ s | lower }}|{{ 'hELLO wORLD' | capitalize }}|{{ 'hello world' | title }}",
     "Héllo World|15|  HÉLLO WORLD  |  héllo world  |Hello world|Hello World"},
    {"{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ 'é\"\\n' | tojson }}|{{ [1.0, 2.5, none, true] | tojson }}|{{ d | tojson(sort_keys=true) }}",
     "{\"b\": 1, \"a\": [1, 2, {\"k\": null}]}|{\n  \"b\": 1,\n  \"a\": [\n    1,\n    2,\n    {\n      \"k\": null\n    }\n  ]\n}|\"é\\\"\\n\"|[1.0, 2.5, null, true]|{\"a\": [1, 2, {\"k\": null}], \"b\": 1}"},
    {"{{ nope | default('dflt') }} {{ '' | default('e', true) }} {{ x | join(', ') }} {{ x | first }} {{ x | last }} {{ 'aXbX' | replace('X', '-') }}",
     "dflt e 3, 1, 2 3 2 a-b-"},
    {"{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join('|') }} {{ messages | rejectattr('role', 'equalto', 'user') | list | length }}",
     "Hi there|Tell me a joke. 2"},
    {"{{ '  ab  '.strip() }}|{{ 'xxabxx'.strip('x') }}|{{ '  ab'.lstrip() }}|{{ 'ab  '.rstrip() }}|{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith('bc') }}|{{ 'a b  c'.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}",
     "ab|ab|ab|ab|TrueTrue|['a', 'b', 'c']|['a', 'b', '', 'c']|['a', 'b,c']"},
    {"{{ 'abc'.upper() }} {{ 'ABC'.lower() }} {{ 'hello there'.title() }} {{ 'aaa'.replace('a', 'b', 2) }}",
     "ABC abc Hello There bba"},
    {"{{ x is defined }} {{ n is none }} {{ s is string }} {{ i is number }} {{ i is integer }} {{ f is float }} {{ d is mapping }} {{ x is iterable }} {{ i is odd }} {{ i is even }} {{ i is divisibleby 7 }} {{ t is true }} {{ n is not none }}",
     "True True True True True True True True True False True True False"},
    {"a\n  {% if true %}\n  x\n  {% endif %}\nb\n", "a\n  x\nb"},
    {"  {%- if true -%}  \n  y  \n  {%- endif %}  z", "y  z"},
    {"{# comment #}\nA {#- c -#}  B\n  {# c2 #}\nC", "AB\nC"},
    {"{{- ' a ' -}}\n  {{ 'b' }}  {{- 'c' }}", " a bc"},
    {"{%+ if true %}x{% endif %}\n  {%+ if true %}y{% endif +%}\nz", "x  y\nz"},
    {"{% for i in range(3) %}{% if i == 1 %}{% continue %}{% endif %}{{ i }}{% endfor %}{% for i in range(5) %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}",
     "02012"},
    {"{% macro greet(name, p='!') %}Hi {{ name }}{{ p }}{% endmacro %}{{ greet('a') }} {{ greet('b', p='?') }}",
     "Hi a! Hi b?"},
    {"{% set block %}inner {{ i }}{% endset %}[{{ block }}]", "[inner 7]"},
    {"{{ messages[0]['content'] }} {{ messages[-1].content | trim }}", "You are helpful. Tell me a joke."},
    {"{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }},{% endfor %}",
     "1user,2assistant,3user,"},
    {"{{ (messages | length) - 1 }} {{ messages|length - 1 }}", "3 3"},
    {"{{ 1 < 2 < 3 }} {{ 3 > 2 > 5 }} {{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ true == 1 }}", "True False True True True"},
    {"{{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.0e-7 }} {{ 100.0 }} {{ 123456789012345678.0 }} {{ -0.0 }} {{ 2.5e-3 }}",
     "0.30000000000000004 1e+20 1e-07 100.0 1.2345678901234568e+17 -0.0 0.0025"},
    {"{{ d | tojson(indent=4) }}{{ [] | tojson(indent=2) }}{{ {} | tojson }}{{ [[]] | tojson(indent=1) }}",
     "{\n    \"b\": 1,\n    \"a\": [\n        1,\n        2,\n        {\n            \"k\": null\n        }\n    ]\n}[]{}[\n []\n]"},
    {"{{ 'a\\tb\\u00e9\\x41' }}{{ \"it's\" }}{{ ['it\\'s', 'a\"b', \"x\"] }}", "a\tbéAit's[\"it's\", 'a\"b', 'x']"},
    {"{{ 'abc' | reverse }} {{ x | reverse | list }} {{ -3 | abs }} {{ 'a\\nb' | indent(2) }}|{{ 'a\\n\\nb\\n' | indent(2, true) }}",
     "cba [2, 1, 3] 3 a\n  b|  a\n\n  b\n"},
    {"{{ x|tojson(separators=(',', ':')) }}{{ d.get('b') }}{{ d.get('zz', 5) }}{{ d.keys() | list }}",
     "[3,1,2]15['b', 'a']"},
    {"{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set sys = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% endif %}{{ loop_messages | length }} {{ sys }}",
     "3 You are helpful."},
    {"{{ 'Hello'[0] }}{{ 'Hello'[-1] }}{{ 'héllo'[1] }}", "Hoé"},
    {"{{ x.0 }}{{ messages.1.role }}", "3user"},
    {"line1\nline2\n\n", "line1\nline2\n"},
    {"{{ 1 if true else 2 if false else 3 }}|{{ 'a' if false else 'b' if false else 'c' }}", "1|c"},
    {"{{ not 1 == 2 }} {{ -2 ** 2 }} {{ (-2) ** 2 }} {{ 2 ** -1 }} {{ - x[0] }}", "True 4 4 0.5 -3"},
    {"{{ 'abcabc'.find('c') }} {{ 'abcabc'.count('b') }} {{ ', '.join(['a', 'b']) }}", "2 2 a, b"},
    {"{{ 'a' ~ x ~ d }}", "a[3, 1, 2]{'b': 1, 'a': [1, 2, {'k': None}]}"},
    {"{% set a, b = 1, 2 %}{{ a }}{{ b }}", "12"},
    {"{{ messages | map(attribute='role') | list }} {{ x | map('string') | join }}",
     "['system', 'user', 'assistant', 'user'] 312"},
    {"{% for i in x %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}", "-1;3-2;1-;"},

};

TEST(ChatJinja, RendersEachConstructAsJinja2) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.source);
    EXPECT_EQ(render(c.source), c.expected);
  }
}

TEST(ChatJinja, StrftimeNowFormatsTheCurrentDate) {
  const std::string year = render("{{ strftime_now('%Y') }}");
  ASSERT_EQ(year.size(), 4u);
  EXPECT_GE(std::stoi(year), 2024);
}

TEST(ChatJinja, TemplateIsReusableAndRendersAreIndependent) {
  const Template t(
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}");
  EXPECT_EQ(t.render(variables()), "4");
  EXPECT_EQ(t.render(variables()), "4");
  EXPECT_EQ(t.render({}), "0");
}

struct ErrorCase {
  gptq_status status;
  const char* message;  // a part of the message
};

std::string deep(const std::string& open, const std::string& middle, const std::string& close, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += open;
  out += middle;
  for (int i = 0; i < n; ++i) out += close;
  return out;
}

TEST(ChatJinja, ErrorsNameTheConstructAndPosition) {
  const std::string long_chain = "{{ 1" + [] {
    std::string s;
    for (int i = 0; i < 5000; ++i) s += " + 1";
    return s;
  }() + " }}";
  const std::string nested_ifs = deep("{% if true %}", "x", "{% endif %}", 300);
  const std::string nested_parens = "{{ " + deep("(", "1", ")", 300) + " }}";
  const std::string nested_lists = "{{ " + deep("[", "1", "]", 300) + " }}";
  const std::vector<std::pair<std::string, ErrorCase>> cases = {
      {"{{ x | frobnicate }}", {GPTQ_ERR_UNSUPPORTED, "1:8: the filter 'frobnicate'"}},
      {"a\n  {{ x | frobnicate }}", {GPTQ_ERR_UNSUPPORTED, "2:10:"}},
      {"{% if true %}never closed", {GPTQ_ERR_FORMAT, "unclosed block: expected '{% endif %}'"}},
      {"{% for m in messages %}x", {GPTQ_ERR_FORMAT, "expected '{% endfor %}'"}},
      {"{{ 'unclosed }}", {GPTQ_ERR_FORMAT, "1:4: unterminated string literal"}},
      {"{{ x ", {GPTQ_ERR_FORMAT, "1:1: unclosed tag"}},
      {"{# x", {GPTQ_ERR_FORMAT, "unclosed comment"}},
      {"{% endif %}", {GPTQ_ERR_FORMAT, "without a matching opening tag"}},
      {"{% frob %}", {GPTQ_ERR_FORMAT, "1:1: unknown tag 'frob'"}},
      {"{% include 'x' %}", {GPTQ_ERR_UNSUPPORTED, "the '{% include %}' tag"}},
      {"{% for x in y recursive %}{% endfor %}", {GPTQ_ERR_UNSUPPORTED, "a recursive for loop"}},
      {"{% break %}", {GPTQ_ERR_FORMAT, "'break' outside a for loop"}},
      {"{{ raise_exception('No system role!') }}", {GPTQ_ERR_INVALID_ARGUMENT, "No system role!"}},
      {"{{ nope.attr }}", {GPTQ_ERR_FORMAT, "'nope' is undefined"}},
      {"{{ nope() }}", {GPTQ_ERR_FORMAT, "'nope' is undefined"}},
      {"{{ x() }}", {GPTQ_ERR_FORMAT, "is not callable"}},
      {"{{ 'a' + 1 }}", {GPTQ_ERR_FORMAT, "unsupported operand types for +: 'str' and 'int'"}},
      {"{{ 1 // 0 }}", {GPTQ_ERR_FORMAT, "division or modulo by zero"}},
      {"{{ '%s' % 1 }}", {GPTQ_ERR_UNSUPPORTED, "printf-style"}},
      {"{{ s.zfill(3) }}", {GPTQ_ERR_UNSUPPORTED, "the str method 'zfill'"}},
      {"{{ x.append(1) }}", {GPTQ_ERR_FORMAT, "list.append()"}},
      {"{% set s.a = 1 %}", {GPTQ_ERR_FORMAT, "only namespace() objects take attributes"}},
      {"{{ x is frobbed }}", {GPTQ_ERR_UNSUPPORTED, "the test 'frobbed'"}},
      {"{{ 9223372036854775807 + 1 }}", {GPTQ_ERR_UNSUPPORTED, "beyond 64 bits"}},
      {"{{ 'ab' * 100000000 }}", {GPTQ_ERR_FORMAT, "would exceed 64 MiB"}},
      {"{% for i in range(100000000) %}{% endfor %}", {GPTQ_ERR_FORMAT, "range() of more than"}},
      {"{% for i in range(5000) %}{% for j in range(5000) %}{% endfor %}{% endfor %}",
       {GPTQ_ERR_FORMAT, "loop iterations"}},
      {"{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = ns.l + [i] %}{% endfor %}",
       {GPTQ_ERR_FORMAT, "copies more than 256 Mi bytes or items"}},
      {"{% macro recurse(n) %}{{ recurse(n + 1) }}{% endmacro %}{{ recurse(0) }}", {GPTQ_ERR_FORMAT, "macro calls nested deeper"}},
      {nested_ifs, {GPTQ_ERR_FORMAT, "nesting deeper than 200 levels"}},
      {nested_parens, {GPTQ_ERR_FORMAT, "nesting deeper than 200 levels"}},
      {nested_lists, {GPTQ_ERR_FORMAT, "nesting deeper than 200 levels"}},
      {long_chain, {GPTQ_ERR_FORMAT, "an expression nested deeper than 200 levels"}},
  };
  for (const auto& [source, expected] : cases) {
    SCOPED_TRACE(source.substr(0, 80));
    std::string message;
    EXPECT_EQ(test::status_of([&] { render(source); }, &message), expected.status) << message;
    EXPECT_NE(message.find(expected.message), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace gptq
