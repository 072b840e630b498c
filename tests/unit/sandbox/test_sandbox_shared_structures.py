"""Gap 2: structures small in memory but astronomically large when walked (shared references).

`a = [a, a]` sixty times is 60 lists in memory and 2**60 elements to print, compare or hash.
CPython walks them in C, where no budget tick can stop it; the sandbox measures the logical size
first (memoised by identity, bounded work) and refuses with ScriptResourceLimit."""

from __future__ import annotations

import json

import pytest

from engine import sandbox
from engine.sandbox import ScriptResourceLimit, ScriptTimeout
from tests.support.sandbox import QUICK_SECONDS, evaluate_timed, run_timed

LIST_BOMB = "a = [1]\nfor i in range(60):\n    a = [a, a]\n"
TWIN_BOMB = LIST_BOMB + "b = [1]\nfor i in range(60):\n    b = [b, b]\n"
TUPLE_BOMB = "a = (1,)\nfor i in range(60):\n    a = (a, a)\n"
DICT_BOMB = "a = {'k': 1}\nfor i in range(60):\n    a = {'l': a, 'r': a}\n"
SHALLOW_BOMB = "a = [1]\nfor i in range(40):\n    a = [a, a]\n"  # within the depth limit
WIDE_STRINGS = "s = 'x' * 1000000\na = [s] * 1000\n"  # 1,000 references to one 1 MB string

USES = {
    "str": LIST_BOMB + "x = str(a)",
    "repr": LIST_BOMB + "x = repr(a)",
    "ascii": LIST_BOMB + "x = ascii(a)",
    "hash_of_str": LIST_BOMB + "x = hash(str(a))",
    "equals": TWIN_BOMB + "x = a == b",
    "not_equals": TWIN_BOMB + "x = a != b",
    "less_than": TWIN_BOMB + "x = a < b",
    "chained": TWIN_BOMB + "x = 0 < 1 < 2 and [a] <= [b] < [b]",
    "in_list": TWIN_BOMB + "x = b in [a]",
    "not_in_list": TWIN_BOMB + "x = b not in [a]",
    "percent": LIST_BOMB + "x = '%s' % (a,)",
    "percent_mapping": LIST_BOMB + "x = '%(v)s' % {'v': a}",
    "fstring": LIST_BOMB + "x = f'{a}'",
    "fstring_repr": LIST_BOMB + "x = f'{a!r}'",
    "fstring_spec": LIST_BOMB + "x = f'{a!s:>10}'",
    "format": LIST_BOMB + "x = format(a)",
    "sorted": TWIN_BOMB + "x = sorted([a, b])",
    "sorted_generator": TWIN_BOMB + "x = sorted(v for v in [a, b])",
    "min": TWIN_BOMB + "x = min(a, b)",
    "max_iterable": TWIN_BOMB + "x = max([a, b])",
    "list_sort": TWIN_BOMB + "x = [a, b]\nx.sort()",
    "list_index": TWIN_BOMB + "x = [a].index(b)",
    "list_count": TWIN_BOMB + "x = [a].count(b)",
    "list_remove": TWIN_BOMB + "x = [a]\nx.remove(b)",
    "print": LIST_BOMB + "print(a)",
    "map_str": LIST_BOMB + "x = list(map(str, [a]))",
    "str_alias": LIST_BOMB + "f = str\nx = f(a)",
    "hash_tuple": TUPLE_BOMB + "x = hash(a)",
    "tuple_dict_key": TUPLE_BOMB + "x = {a: 1}",
    "tuple_set_member": TUPLE_BOMB + "x = {a}",
    "tuple_in_set": TUPLE_BOMB + "x = a in {1}",
    "tuple_subscript": TUPLE_BOMB + "x = {1: 2}[a]",
    "tuple_dict_get": TUPLE_BOMB + "x = {}.get(a)",
    "tuple_set_add": TUPLE_BOMB + "s = {1}\ns.add(a)",
    "tuple_set_constructor": TUPLE_BOMB + "x = set([a])",
    "tuple_frozenset": TUPLE_BOMB + "x = frozenset([a])",
    "tuple_dict_constructor": TUPLE_BOMB + "x = dict([(a, 1)])",
    "tuple_dict_comprehension": TUPLE_BOMB + "x = {k: 1 for k in [a]}",
    "dict_str": DICT_BOMB + "x = str(a)",
    "dict_equals": DICT_BOMB
    + "b = {'k': 1}\nfor i in range(60):\n    b = {'l': b, 'r': b}\nx = a == b",
    "dict_views": DICT_BOMB + "x = str(a.values())",
    "dict_items_and": TUPLE_BOMB + "x = {1: a}.items() & {1: a}.items()",
    "dict_items_minus": TUPLE_BOMB + "x = {1: a}.items() - [(1, a)]",
    "dict_items_or_inplace": TUPLE_BOMB + "x = {1: a}.items()\nx |= [(1, a)]",
    "dict_keys_xor": TUPLE_BOMB + "x = {1: 2}.keys() ^ [a]",
    "exception_message": LIST_BOMB + "raise ValueError(a)",
    "wide_strings_str": WIDE_STRINGS + "x = str(a)",
    "wide_strings_fstring": WIDE_STRINGS + "x = f'{a}'",
}


@pytest.mark.parametrize("script", list(USES.values()), ids=list(USES))
def test_walking_a_shared_structure_is_refused_quickly(script):
    error, seconds, after = run_timed(script, {"customer": "ACME"})
    assert isinstance(error, ScriptResourceLimit), f"{type(error).__name__}: {error.message}"
    assert "too large" in error.message
    assert seconds < QUICK_SECONDS
    assert after == {"customer": "ACME"}


@pytest.mark.parametrize(
    "bomb",
    [LIST_BOMB, TUPLE_BOMB, DICT_BOMB, SHALLOW_BOMB, SHALLOW_BOMB + "b = [a] * 3\nc = 1"],
    ids=["list", "tuple", "dict", "shallow", "shallow_shared_by_two_variables"],
)
def test_a_shared_structure_left_behind_is_refused_before_spiff_copies_it(bomb):
    error, seconds, after = run_timed(bomb, {"customer": "ACME"})
    assert isinstance(error, ScriptResourceLimit), error.message
    assert "'a'" in error.message
    assert seconds < QUICK_SECONDS
    assert after == {"customer": "ACME"}


def test_a_shared_structure_planted_in_the_input_data_by_a_failing_script_is_removed():
    data = {"rows": [], "customer": "ACME"}
    error, seconds, after = run_timed(LIST_BOMB + "rows.append(a)\nx = 1 / 0", data)
    assert isinstance(error, ScriptResourceLimit), error.message
    assert "'rows'" in error.message
    assert seconds < QUICK_SECONDS
    assert after == {"customer": "ACME"}  # what is left can be copied and serialized
    json.dumps(after)


def test_a_shared_structure_planted_in_the_input_data_and_left_behind_is_removed():
    data = {"rows": [], "customer": "ACME"}
    error, _, after = run_timed(SHALLOW_BOMB + "rows.append(a)", data)
    assert isinstance(error, ScriptResourceLimit), error.message
    assert after == {"customer": "ACME"}
    json.dumps(after)


def test_a_cycle_planted_in_the_input_data_by_a_condition_is_removed():
    data = {"rows": [1], "customer": "ACME"}
    error, _ = evaluate_timed("rows.append(rows) or True", data)
    assert isinstance(error, ScriptResourceLimit)
    assert data == {"customer": "ACME"}


def test_an_expression_may_not_return_a_shared_structure():
    error, seconds = evaluate_timed("[[[[1] * 2] * 1000] * 1000] * 1000")
    assert isinstance(error, ScriptResourceLimit)
    assert seconds < QUICK_SECONDS


def test_ordinary_structures_still_print_compare_and_hash():
    data = {"rows": [{"sku": "T-200", "qty": 2}, {"sku": "T-100", "qty": 1}]}
    sandbox.execute(
        "text = str(rows)\nsame = rows == [dict(r) for r in rows]\n"
        "keys = {(r['sku'], 1) for r in rows}\n"
        "ordered = sorted(r['sku'] for r in rows)\nfound = ('T-100', 1) in keys\n"
        "label = f'{rows[0]}'\nshown = '%s' % (rows[1],)\nbig = max([[1, 2], [1, 3]])\n"
        "shared = [[0] * 10] * 10\nwide = str(shared)\nprint(rows)",
        data,
    )
    assert data["text"].startswith("[{'sku': 'T-200'")
    assert data["same"] is True
    assert data["found"] is True
    assert data["ordered"] == ["T-100", "T-200"]
    assert data["label"] == "{'sku': 'T-200', 'qty': 2}"
    assert data["big"] == [1, 3]
    assert len(data["shared"]) == 10


def test_isinstance_and_unbound_methods_of_the_guarded_types_still_work():
    assert sandbox.evaluate(
        "isinstance('a', str) and isinstance({}, dict) and not isinstance(1, str)", {}
    )
    assert sandbox.evaluate("str.upper('ab') + str(12) + repr('x')", {}) == "AB12'x'"
    assert sandbox.evaluate("sorted(dict.fromkeys(['b', 'a']))", {}) == ["a", "b"]
    assert sandbox.evaluate("set('aab') == {'a', 'b'} and frozenset([1]) == {1}", {})
    assert sandbox.evaluate("({'a': 1}.keys() | {'b'}) - {'a'}", {}) == {"b"}
    assert sandbox.evaluate("(7 - 2) | (8 & 12) ^ 1", {}) == 13


def test_an_expression_returning_a_lazy_iterator_is_read_within_the_budget():
    assert sandbox.evaluate("(n * 2 for n in range(3))", {}) == [0, 2, 4]
    assert sandbox.evaluate("map(abs, [-1, 2])", {}) == [1, 2]
    error, seconds = evaluate_timed("(n for n in range(10**6) for m in range(10**6))")
    assert isinstance(error, (ScriptResourceLimit, ScriptTimeout))
    assert seconds < QUICK_SECONDS
