"""Compile time: RestrictedPython's policy, tightened, plus budget ticks and guard calls.

`check_syntax` runs this at upload, so most attacks are refused before they are stored.
"""

from __future__ import annotations

import ast
import re
from collections import OrderedDict
from typing import Any

from RestrictedPython import (
    RestrictingNodeTransformer,
    compile_restricted_eval,
    compile_restricted_exec,
)

from engine.sandbox.errors import ScriptSyntaxError, ScriptViolation


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(name, ast.Load()), args=list(args), keywords=[])


_GUARDED_OPERATORS = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_"}
_GUARDED_OPERATORS.update({ast.LShift: "_lshift_", ast.Mod: "_mod_"})
# Set operators hash what they are given (`d.items() & other.items()` hashes (key, value) tuples).
_GUARDED_OPERATORS.update({ast.Sub: "_sub_", ast.BitAnd: "_and_", ast.BitOr: "_or_"})
_GUARDED_OPERATORS[ast.BitXor] = "_xor_"
# Comparisons that may walk both operands in C; `is` / `is not` never do.
_WALKING_COMPARISONS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
# Attributes with no business use that lead to classes, frames or code. RestrictedPython refuses
# `_` names and some inspect attributes at run time; refusing these at upload is clearer.
_REFUSED_ATTRIBUTES = frozenset(
    "mro gi_frame gi_code gi_yieldfrom cr_frame cr_code cr_await ag_frame ag_code "
    "tb_frame tb_next f_back f_builtins f_code f_globals f_locals co_code format format_map".split()
)


class WeftPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus budget ticks, operator guards and a few more refusals."""

    def visit_Module(self, node):
        node = super().visit_Module(node)
        return ast.fix_missing_locations(_StatementTicks().visit(node))

    def visit_Expression(self, node):
        return ast.fix_missing_locations(super().visit_Expression(node))

    def visit_Import(self, node):
        self.error(node, "Imports are not allowed in Weft scripts; use the built-in helpers.")
        return node

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self.error(node, "Class definitions are not allowed in Weft scripts.")
        return node

    def visit_Global(self, node):
        self.error(node, "'global' is not allowed in Weft scripts.")
        return node

    def visit_Nonlocal(self, node):
        self.error(node, "'nonlocal' is not allowed in Weft scripts.")
        return node

    def visit_ExceptHandler(self, node):
        if node.type is None:
            self.error(node, "A bare 'except:' is not allowed; name the exceptions to catch.")
        return super().visit_ExceptHandler(node)

    def visit_Attribute(self, node):
        if node.attr in _REFUSED_ATTRIBUTES:
            self.error(node, f"The attribute '{node.attr}' is not allowed in Weft scripts.")
            return node
        return super().visit_Attribute(node)

    def visit_Lambda(self, node):
        node = super().visit_Lambda(node)
        node.body = ast.copy_location(
            ast.BoolOp(ast.And(), [_call("_tick_"), node.body]), node.body
        )
        return node

    def visit_comprehension(self, node):
        node = super().visit_comprehension(node)
        node.ifs.append(ast.copy_location(_call("_tick_"), node.iter))
        return node

    def visit_FormattedValue(self, node):
        """`f"{x!r:>{w}}"` becomes `f"{_format_(x, f'>{w}', 'r')}"`, which checks the width and
        the size of what is formatted."""
        node = super().visit_FormattedValue(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        call = _call("_format_", node.value, spec, ast.Constant(node.conversion))
        return ast.copy_location(
            ast.FormattedValue(value=call, conversion=-1, format_spec=None), node
        )

    def visit_BinOp(self, node):
        node = super().visit_BinOp(node)
        guard = _GUARDED_OPERATORS.get(type(node.op))
        if guard is None:
            return node
        return ast.copy_location(_call(guard, node.left, node.right), node)

    def visit_Compare(self, node):
        node = super().visit_Compare(node)
        operators = [_WALKING_COMPARISONS.get(type(op)) for op in node.ops]
        if len(node.ops) == 1 and operators[0]:
            call = _call("_compare_", node.left, ast.Constant(operators[0]), node.comparators[0])
            return ast.copy_location(call, node)
        if any(operators):  # a chain: check every operand, keep Python's chaining
            node.left = _call("_walkable_", node.left)
            node.comparators = [_call("_walkable_", c) for c in node.comparators]
        return node

    def visit_Dict(self, node):
        node = super().visit_Dict(node)
        node.keys = [_hashable(key) for key in node.keys]
        return node

    def visit_Set(self, node):
        node = super().visit_Set(node)
        node.elts = [_hashable(element) for element in node.elts]
        return node

    def visit_DictComp(self, node):
        node = super().visit_DictComp(node)
        node.key = _hashable(node.key)
        return node

    def visit_SetComp(self, node):
        node = super().visit_SetComp(node)
        node.elt = _hashable(node.elt)
        return node


def _hashable(node: ast.expr | None) -> ast.expr | None:
    """A key or set member is hashed in C, which walks a tuple; constants need no check."""
    if node is None or isinstance(node, ast.Constant | ast.Starred):  # `**spread`, `*spread`
        return node
    return ast.copy_location(_call("_hashable_", node), node)


class _StatementTicks(ast.NodeTransformer):
    """A tick before every statement, so straight-line code is held to the budget as loops are
    (a loop's body is a statement list too, so each round ticks)."""

    def generic_visit(self, node):
        super().generic_visit(node)
        for field in ("body", "orelse", "finalbody"):
            statements = getattr(node, field, None)
            if isinstance(statements, list) and statements and isinstance(statements[0], ast.stmt):
                setattr(node, field, _with_ticks(statements))
        return node


def _with_ticks(statements: list[ast.stmt]) -> list[ast.stmt]:
    ticked: list[ast.stmt] = []
    for statement in statements:
        ticked.append(ast.copy_location(ast.Expr(_call("_tick_")), statement))
        ticked.append(statement)
    return ticked


_LINE_PREFIX = re.compile(r"^Line (\d+): (.*)$", re.DOTALL)
_compiled: OrderedDict[tuple[str, str], Any] = OrderedDict()
_COMPILE_CACHE_SIZE = 2048


def check_syntax(source: str, mode: str = "exec") -> None:
    """Raise ScriptSyntaxError/ScriptViolation unless the sandbox would accept `source`."""
    compile_script(source, mode)


def compile_script(source: str, mode: str):
    """The code object for `source` ("exec" or "eval"), compiled once and cached."""
    key = (mode, source)
    code = _compiled.get(key)
    if code is not None:
        _compiled.move_to_end(key)
        return code
    code = _compile_uncached(source, mode)
    _compiled[key] = code
    if len(_compiled) > _COMPILE_CACHE_SIZE:
        _compiled.popitem(last=False)
    return code


def _compile_uncached(source: str, mode: str):
    if mode not in ("exec", "eval"):
        raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
    if not isinstance(source, str) or not source.strip():
        raise ScriptSyntaxError("The script or expression is empty.")
    try:
        ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise ScriptSyntaxError(f"Syntax error: {exc.msg}", exc.lineno) from None
    except ValueError as exc:  # e.g. null bytes
        raise ScriptSyntaxError(f"Syntax error: {exc}") from None
    except RecursionError:
        raise ScriptSyntaxError("Syntax error: the code is nested too deeply.") from None
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    try:
        result = compiler(source, filename="<string>", policy=WeftPolicy)
    except RecursionError:
        raise ScriptSyntaxError("Syntax error: the code is nested too deeply.") from None
    if result.errors:
        line, message = _split_line(result.errors[0])
        raise ScriptViolation(message, line)
    return result.code


def _split_line(error: str) -> tuple[int | None, str]:
    match = _LINE_PREFIX.match(error)
    if not match:
        return None, error
    return int(match.group(1)), match.group(2)
