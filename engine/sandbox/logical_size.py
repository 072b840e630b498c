"""How big a value is when C code walks it: str/repr/format, ==/</in, hash, sort, JSON.

`a = [a, a]` sixty times is 60 small lists in memory but 2**60 elements to any walk that does
not remember what it has seen, and CPython's walks do not: `str(a)` or `a == b` would run in C
for ever, where no budget tick can stop them. This walk remembers each container's size by
identity, so it costs one visit per distinct container and per reference, and it stops as soon
as the count passes the limit: its own work is bounded by the limit too.

The size counts one per item and one per character of a string or bytes value, every time it is
reached (as the C walks and JSON do). A container met again while it is still being walked (a
cycle) counts once: repr prints it as `[...]`; callers that must store the value refuse cycles.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from engine.sandbox.limits import MAX_LOGICAL_SIZE

# Deeper than this, CPython's own walks stop with a RecursionError anyway (its C recursion
# limit); refusing here keeps this walk's frames, and the garbage collector's work, small.
MAX_WALK_DEPTH = 1_000

# Values a walk never enters: their size is 1 (strings and bytes: 1 + their length).
LEAVES = frozenset({int, float, bool, complex, type(None), Decimal, date, datetime, time})
LEAVES |= {timedelta, range, slice}
_TEXT = (str, bytes)
_DICT_VIEWS = (type({}.keys()), type({}.values()), type({}.items()))


class TooLarge(Exception):
    """The value's logical size passed the limit (or it holds a cycle, when cycles count)."""

    def __init__(self, cyclic: bool = False):
        super().__init__("cyclic" if cyclic else "too large")
        self.cyclic = cyclic


def is_leaf(value: Any) -> bool:
    """True for values every C walk handles in time proportional to their memory."""
    kind = type(value)
    return kind in LEAVES or kind is str or kind is bytes


_ALL_LEAVES = LEAVES | {str, bytes}
_CHARGE_EVERY = 20_000  # items between budget ticks, so a long walk still meets the deadline


def _children(value: Any) -> list | tuple | set | frozenset | None:
    kind = type(value)
    if kind is list or kind is tuple or kind is set or kind is frozenset:
        return value
    if kind is dict or isinstance(value, dict):
        return [*value.keys(), *value.values()]
    if isinstance(value, list | tuple | set | frozenset):
        return value
    if isinstance(value, _DICT_VIEWS):
        return [*value.mapping.keys(), *value.mapping.values()]
    if isinstance(value, BaseException):
        return value.args  # str(error) and Spiff's incident message walk its args
    return None


def _leaves_size(children, kinds: set) -> int:
    """The size of children that are all leaves, counted in C where possible."""
    size = len(children)
    if str in kinds or bytes in kinds:
        size += sum(map(len, [c for c in children if type(c) is str or type(c) is bytes]))
    return size


def logical_size(value: Any, limit: int = MAX_LOGICAL_SIZE, cycles_allowed: bool = True) -> int:
    """The value's size as C walks see it; raises TooLarge past `limit` (or at a cycle when
    `cycles_allowed` is false)."""
    if is_leaf(value):
        return 1 + len(value) if isinstance(value, _TEXT) else 1
    if _children(value) is None:
        return 1
    from engine.sandbox.budget import charge  # the walk of a run ticks its budget

    done: dict[int, int] = {}
    open_ids: set[int] = set()
    work = 0
    next_charge = _CHARGE_EVERY

    def enter(container, children):
        nonlocal work
        kinds = set(map(type, children))
        if kinds <= _ALL_LEAVES:  # the common case, e.g. a row or a list of numbers
            work += len(children)
            return None, 1 + _leaves_size(children, kinds)
        open_ids.add(id(container))
        return iter(children), 1

    stack: list[list] = []
    remaining, total = enter(value, _children(value))
    if remaining is None:
        if total > limit:
            raise TooLarge()
        return total
    stack.append([value, remaining, total])
    while stack:
        frame = stack[-1]
        container, remaining, total = frame
        for child in remaining:
            work += 1
            kind = type(child)
            if kind in _ALL_LEAVES:
                total += 1 + len(child) if (kind is str or kind is bytes) else 1
            elif id(child) in done:
                total += done[id(child)]
            elif id(child) in open_ids:
                if not cycles_allowed:
                    raise TooLarge(cyclic=True)
                total += 1
            elif (grandchildren := _children(child)) is None:
                total += 1
            else:
                if len(stack) >= MAX_WALK_DEPTH:
                    raise TooLarge()
                child_remaining, child_total = enter(child, grandchildren)
                if child_remaining is None:
                    done[id(child)] = child_total
                    total += child_total
                else:
                    frame[2] = total
                    stack.append([child, child_remaining, child_total])
                    break
            if total > limit or work > limit:
                raise TooLarge()
            if work > next_charge:
                next_charge = work + _CHARGE_EVERY
                charge()
        else:
            stack.pop()
            open_ids.discard(id(container))
            done[id(container)] = total
            if stack:
                stack[-1][2] += total
                if stack[-1][2] > limit:
                    raise TooLarge()
            continue
        if total > limit or work > limit:
            raise TooLarge()
    return done[id(value)]
