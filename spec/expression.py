"""The objective expression: parsed with lark from objective.lark into an Objective value.

``channel(vgg16:conv3_3, 37) - 1e-5 * tv`` becomes two weighted Terms. Errors carry the
1-based column (character offset + 1) inside the expression; the loader maps that column to
the spec file's line and column, so a typo is shown with a caret under it in the YAML.
"""

from __future__ import annotations

import functools
import math
from importlib import resources

import lark
from lark.lexer import PatternStr

from .errors import Diagnostic, Location, SpecError
from .model import Objective, Term
from .suggest import did_you_mean

TERM_KINDS = ("channel", "neuron", "layer", "diversity", "style", "tv", "crowding")
NETWORK_TERMS = ("channel", "neuron", "layer", "diversity", "style")
POSITION_NAMES = ("x", "y")
MAX_LENGTH = 10_000

_FRIENDLY = {
    "NAME": "a name",
    "LAYER": "a layer name",
    "INT": "a channel number",
    "NUMBER": "a number",
    "STRING": "a quoted image path",
    "$END": "the end of the expression",
}
_TERM_START = {"NAME", "CHANNEL", "NEURON", "DIVERSITY", "STYLE", "TV", "CROWDING"}
_TERMS_HINT = "a term: channel(NET:LAYER, C), NET:LAYER:C, neuron(...), layer(...), diversity(...), style(...), tv or crowding"


class ExpressionError(ValueError):
    """A problem at a 1-based ``column`` of the expression text."""

    def __init__(self, column: int, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


@functools.cache
def grammar() -> lark.Lark:
    """The compiled LALR parser for objective.lark (built once, on first use)."""
    text = resources.files(__package__).joinpath("objective.lark").read_text(encoding="utf-8")
    return lark.Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def _describe(terminal: str) -> str:
    if terminal in _FRIENDLY:
        return _FRIENDLY[terminal]
    try:
        pattern = grammar().get_terminal(terminal).pattern
    except KeyError:
        return terminal
    return repr(pattern.value) if isinstance(pattern, PatternStr) else terminal


def _expected(names: set[str] | frozenset[str]) -> str:
    names = set(names)
    parts = []
    if len(names & _TERM_START) >= 3:
        names = {n for n in names - _TERM_START if _describe(n) != "'layer'"}
        parts.append(_TERMS_HINT)
    parts += sorted(_describe(n) for n in names)
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def _end_column(text: str) -> int:
    return len(text.rstrip()) + 1


def _syntax_error(text: str, exc: lark.exceptions.UnexpectedInput) -> ExpressionError:
    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        expected = _expected(exc.allowed or set())
        tail = f"; expected {expected}" if expected else ""
        return ExpressionError(exc.pos_in_stream + 1, f"unexpected character {char!r}{tail}")
    if isinstance(exc, lark.exceptions.UnexpectedToken):
        token = exc.token
        history = list(getattr(exc, "token_history", None) or [])
        previous = history[-1] if history else None
        if token.type == "$END":
            expected = _expected(getattr(exc, "accepts", None) or exc.expected)
            return ExpressionError(_end_column(text), f"the expression ends too early; expected {expected}")
        column = (token.start_pos or 0) + 1
        if token.type == "LPAR" and previous is not None and previous.type == "NAME":
            hint = did_you_mean(str(previous), TERM_KINDS)
            return ExpressionError(
                (previous.start_pos or 0) + 1, f"unknown term {str(previous)!r}{hint}; terms are {', '.join(TERM_KINDS)}"
            )
        if token.type == "LPAR" and previous is not None and previous.type == "TV":
            return ExpressionError(column, "tv takes no arguments; write 'tv' alone (with a negative weight, e.g. '- 1e-5 * tv')")
        if token.type == "LPAR" and previous is not None and previous.type == "CROWDING":
            return ExpressionError(column, "crowding takes no arguments; write 'crowding' alone (with a negative weight, e.g. '- 0.1 * crowding')")
        accepted = getattr(exc, "accepts", None) or exc.expected
        expected = _expected(accepted)
        if accepted == {"INT"} and token.type in ("NUMBER", "MINUS"):
            return ExpressionError(column, f"unexpected {str(token)!r}; a channel is a whole number >= 0")
        return ExpressionError(column, f"unexpected {str(token)!r}; expected {expected}")
    if isinstance(exc, lark.exceptions.UnexpectedEOF):
        return ExpressionError(_end_column(text), f"the expression ends too early; expected {_expected(set(exc.expected))}")
    return ExpressionError(1, f"cannot parse the objective: {exc}")


def _number(token: lark.Token) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise ExpressionError(token.start_pos + 1, f"the weight {str(token)!r} is not a finite number")
    return value


def _target(node: lark.Tree) -> tuple[str, str]:
    net, layer = node.children
    return str(net), str(layer)


def _position(term: lark.Tree) -> tuple[float, float] | None:
    found: dict[str, float] = {}
    for child in term.children:
        if not isinstance(child, lark.Tree) or child.data != "position":
            continue
        name, number = child.children
        column = name.start_pos + 1
        if name not in POSITION_NAMES:
            raise ExpressionError(column, f"unknown neuron argument {str(name)!r}{did_you_mean(str(name), POSITION_NAMES)}; use x= and y=")
        if name in found:
            raise ExpressionError(column, f"neuron argument {str(name)!r} is given twice")
        value = _number(number)
        if not 0.0 <= value <= 1.0:
            raise ExpressionError(number.start_pos + 1, f"neuron {name}={value:g} is outside 0..1 (a fraction of the feature map)")
        found[str(name)] = value
    if not found:
        return None
    return found.get("x", 0.5), found.get("y", 0.5)


def _term(text: str, node: lark.Tree, weight: float) -> Term:
    kind = node.data
    start, end = node.meta.start_pos, node.meta.end_pos
    common = dict(weight=weight, text=text[start:end], column=start + 1)
    if kind in ("tv", "crowding"):
        return Term(kind=kind, **common)
    if kind == "shorthand":
        net, layer, channel = node.children
        return Term(kind="channel", net=str(net), layer=str(layer), channel=int(channel), **common)
    net, layer = _target(node.children[0])
    if kind == "channel":
        return Term(kind="channel", net=net, layer=layer, channel=int(node.children[1]), **common)
    if kind == "neuron":
        return Term(kind="neuron", net=net, layer=layer, channel=int(node.children[1]), position=_position(node) or (0.5, 0.5), **common)
    if kind == "style":
        raw = node.children[1]
        path = str(raw)[1:-1]
        if not path.strip():
            raise ExpressionError(raw.start_pos + 1, "the style image path is empty")
        return Term(kind="style", net=net, layer=layer, image=path, **common)
    return Term(kind=kind, net=net, layer=layer, **common)


def _weighted(text: str, node: lark.Tree, sign: float) -> Term:
    if node.data == "scaled_left":
        number, term = node.children
        return _term(text, term, sign * _number(number))
    if node.data == "scaled_right":
        term, number = node.children
        return _term(text, term, sign * _number(number))
    return _term(text, node.children[0], sign)


def objective_from_text(text: str) -> Objective:
    """Parse an expression; raises ExpressionError (a column and a message) on any problem."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(1, f"the objective is longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ExpressionError(1, f"the objective is empty; write {_TERMS_HINT}, e.g. 'channel(vgg16:conv3_3, 37)'")
    try:
        tree = grammar().parse(text)
    except lark.exceptions.UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    except RecursionError:
        raise ExpressionError(1, "the objective is nested too deeply") from None
    (sum_node,) = tree.children
    terms: list[Term] = []
    sign = 1.0
    for child in sum_node.children:
        if child.data == "first":
            first_sign = 1.0
            for part in child.children:
                if part.data == "negate":
                    first_sign = -1.0 if str(part.children[0]) == "-" else 1.0
                else:
                    terms.append(_weighted(text, part, first_sign))
        elif child.data == "addop":
            sign = -1.0 if str(child.children[0]) == "-" else 1.0
        else:
            terms.append(_weighted(text, child, sign))
    if not any(term.kind in NETWORK_TERMS for term in terms):
        raise ExpressionError(terms[0].column, "the objective needs at least one network term (channel, neuron, layer, diversity or style); tv or crowding alone only moves strokes apart")
    return Objective(expression=text, terms=tuple(terms))


def parse_expression(text: str) -> Objective:
    """Parse an objective expression on its own (no spec file).

    Raises SpecError whose location is ``<objective>:LINE:COL`` inside ``text``."""
    if not isinstance(text, str):
        raise SpecError(Diagnostic(Location("<objective>"), "$.objective", f"the objective must be a string, got {type(text).__name__}"))
    try:
        return objective_from_text(text)
    except ExpressionError as exc:
        offset = min(max(exc.column - 1, 0), len(text))
        line0 = text.count("\n", 0, offset)
        start = text.rfind("\n", 0, offset) + 1
        lines = text.splitlines() or [""]
        source_line = lines[line0] if line0 < len(lines) else ""
        location = Location("<objective>", line0 + 1, offset - start + 1, source_line)
        raise SpecError(Diagnostic(location, "$.objective", exc.message)) from None
