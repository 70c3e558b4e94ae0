"""YAML in, plain data out, with the line and column of every key and value.

PyYAML's safe loader is used only to scan and compose nodes; this module then builds the
Python data itself so that it can keep every node's mark, refuse what a spec never needs
(custom tags, merge keys, duplicate keys, alias bombs, deep nesting) and say where.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import Diagnostic, Location, SpecError

MAX_NODES = 50_000  # values visited while building the data, aliases expanded (alias bombs stop here)
FAST_MAX_CHARS = 256 * 1024  # larger texts go to the pure-Python loader
FAST_MAX_BRACKETS = 512  # so does deeply bracketed text (libyaml recurses in C)
MAX_DEPTH = 64  # nesting of maps and lists
MAX_BYTES = 4 * 1024 * 1024
MAX_SHOWN_LINE = 160  # longer source lines are cut in messages

_TAG = "tag:yaml.org,2002:"
# YAML 1.2 floats that PyYAML (YAML 1.1) leaves as strings, like 1e-3 (no dot)
_YAML12_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)[eE][-+]?[0-9]+$")
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}


@dataclass(frozen=True)
class Source:
    """The text of a spec (or of one override value) and its name, for building locations."""

    name: str
    text: str
    lines: tuple[str, ...] = field(repr=False, default=())

    @classmethod
    def of(cls, name: str, text: str) -> Source:
        return cls(name, text, tuple(text.splitlines()))

    def location(self, line0: int, column0: int) -> Location:
        """A Location from 0-based line/column (PyYAML marks)."""
        source_line = self.lines[line0] if 0 <= line0 < len(self.lines) else ""
        if len(source_line) > MAX_SHOWN_LINE:  # keep messages readable; drop the caret line if it would not show
            source_line = source_line[:MAX_SHOWN_LINE] + " ..." if column0 < MAX_SHOWN_LINE else ""
        return Location(self.name, line0 + 1, column0 + 1, source_line)

    def mark(self, mark: yaml.Mark | None) -> Location:
        if mark is None:
            return Location(self.name, 1, 1, self.lines[0] if self.lines else "")
        return self.location(mark.line, mark.column)

    def offset(self, index: int) -> Location:
        """A Location from a 0-based character offset into the text."""
        line0 = self.text.count("\n", 0, index)
        start = self.text.rfind("\n", 0, index) + 1
        return self.location(line0, index - start)


@dataclass(frozen=True)
class Parsed:
    """A YAML document as plain data, plus where each JSON path's key and value start.

    ``values`` and ``keys`` map JSON paths (``$.pens[0].width``) to locations; ``nodes`` keeps
    the scalar nodes so that positions inside a string (the objective) can be mapped back.
    """

    data: Any
    values: dict[str, Location]
    keys: dict[str, Location]
    nodes: dict[str, yaml.Node]
    source: Source
    diagnostics: tuple[Diagnostic, ...] = ()  # problems that still let the rest be checked


def child_path(path: str, key: str | int) -> str:
    """JSON path of a map key or list index below ``path``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if key and (key[0].isalpha() or key[0] == "_") and all(c.isalnum() or c in "_-" for c in key):
        return f"{path}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"


def decode(data: str | bytes, source_name: str) -> str:
    """UTF-8 text from bytes, or a SpecError at the first bad byte."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if len(data) > MAX_BYTES:
        raise SpecError(Diagnostic(Location(source_name), "", f"the spec is larger than {MAX_BYTES // (1024 * 1024)} MiB"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8", errors="replace")
        line = good.count("\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        shown = data.splitlines()[line - 1].decode("utf-8", errors="replace") if data.splitlines() else ""
        message = f"the spec is not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded (save the file as UTF-8)"
        raise SpecError(Diagnostic(Location(source_name, line, column, shown), "", message)) from None


def _tag_message(tag: str) -> str:
    shown = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
    return f"YAML tag {shown!r} is not allowed in a spec (specs hold plain maps, lists, strings and numbers)"


class _Builder:
    def __init__(self, source: Source):
        self.source = source
        self.values: dict[str, Location] = {}
        self.keys: dict[str, Location] = {}
        self.nodes: dict[str, yaml.Node] = {}
        self.diagnostics: list[Diagnostic] = []
        self.visited = 0
        self.top: tuple[str, yaml.Node] | None = None
        self.constructor = yaml.SafeLoader("")

    def fail(self, node_or_mark: Any, path: str, message: str) -> None:
        mark = getattr(node_or_mark, "start_mark", node_or_mark)
        self.diagnostics.append(Diagnostic(self.source.mark(mark), path, message))

    def build(self, node: yaml.Node, path: str, depth: int, stack: tuple[int, ...]) -> Any:
        self.visited += 1
        if depth == 1:
            self.top = (path, node)
        if self.visited > MAX_NODES:
            where, top = self.top or (path, node)  # blame the top-level value that grew too large
            message = f"this value expands to more than {MAX_NODES} values through aliases (an alias bomb?)"
            raise SpecError(Diagnostic(self.source.mark(top.start_mark), where, message))
        if depth > MAX_DEPTH:
            raise SpecError(Diagnostic(self.source.mark(node.start_mark), path, f"values are nested more than {MAX_DEPTH} levels deep"))
        if id(node) in stack:
            raise SpecError(Diagnostic(self.source.mark(node.start_mark), path, "an alias refers to the value that contains it (recursive alias)"))
        self.values.setdefault(path, self.source.mark(node.start_mark))
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if node.tag not in (f"{_TAG}map", f"{_TAG}seq"):
            self.fail(node, path, _tag_message(node.tag))
            return None
        stack = (*stack, id(node))
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, child_path(path, i), depth + 1, stack) for i, item in enumerate(node.value)]
        return self.mapping(node, path, depth, stack)

    def mapping(self, node: yaml.MappingNode, path: str, depth: int, stack: tuple[int, ...]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, path, "a key must be a plain name, not a list or a map")
                continue
            if key_node.tag == f"{_TAG}merge":
                self.fail(key_node, path, "merge keys ('<<') are not supported; write the keys out")
                continue
            if key_node.tag not in _SCALAR_TAGS:
                self.fail(key_node, path, _tag_message(key_node.tag))
                continue
            key = key_node.value  # the key as written: 'yes:' stays "yes", '1:' stays "1"
            sub = child_path(path, key)
            if key in result:
                first = self.keys[sub]
                self.fail(key_node, sub, f"duplicate key {key!r} (first defined at line {first.line})")
                continue
            self.keys[sub] = self.source.mark(key_node.start_mark)
            result[key] = self.build(value_node, sub, depth + 1, stack)
        return result

    def scalar(self, node: yaml.ScalarNode, path: str) -> Any:
        self.nodes[path] = node
        if node.tag not in _SCALAR_TAGS:
            self.fail(node, path, _tag_message(node.tag))
            return None
        if node.tag == f"{_TAG}timestamp":
            return node.value  # a date is just text here
        if node.tag == f"{_TAG}str" and not node.style and _YAML12_FLOAT.match(node.value):
            node = yaml.ScalarNode(f"{_TAG}float", node.value, node.start_mark, node.end_mark)  # 1e-3 is a number
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            self.fail(node, path, f"cannot read {node.value!r} as {node.tag.removeprefix(_TAG)}: {exc}")
            return None
        if isinstance(value, str) and any("\ud800" <= c <= "\udfff" for c in value):
            self.fail(node, path, "the text holds an unpaired surrogate escape (\\uD800-\\uDFFF)")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(node, path, f"{node.value!r} is not a finite number")
            return None
        return value


def _fast_compose(text: str) -> yaml.Node | None:
    """Compose with libyaml when it is there and the text is ordinary; None means 'use the
    pure-Python loader', which also words every error (libyaml's messages say less).
    libyaml recurses in C, so deeply bracketed text never goes there."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is None or len(text) > FAST_MAX_CHARS or text.count("[") + text.count("{") > FAST_MAX_BRACKETS:
        return None
    loader = fast(text)
    try:
        return loader.get_single_node()
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()


def _compose(source: Source) -> yaml.Node | None:
    loader = None
    try:
        node = _fast_compose(source.text)
        if node is not None:
            return node
        loader = yaml.SafeLoader(source.text)
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "unreadable").strip()
        if exc.context and exc.problem:
            problem = f"{exc.context} {problem}" if problem.startswith("but ") else f"{problem} ({exc.context})"
        if "'\\t'" in problem:
            problem += "; YAML indents with spaces, not tabs"
        raise SpecError(Diagnostic(source.mark(mark), "", f"invalid YAML: {problem}")) from None
    except yaml.reader.ReaderError as exc:
        raise SpecError(Diagnostic(source.offset(exc.position), "", f"invalid character {chr(exc.character)!r} (U+{exc.character:04X}) in the spec")) from None
    except yaml.YAMLError as exc:
        raise SpecError(Diagnostic(source.location(0, 0), "", f"invalid YAML: {exc}")) from None
    except RecursionError:
        raise SpecError(Diagnostic(source.location(0, 0), "", "values are nested too deeply")) from None
    finally:
        if loader is not None:
            loader.dispose()


def parse_yaml(text: str | bytes, source_name: str, *, top: str = "map") -> Parsed:
    """Parse one YAML document. ``top="map"`` demands a mapping at the top level (a spec);
    ``top="any"`` takes any value (an override).

    Problems that make the document unreadable raise SpecError; problems confined to one
    value (a tag, a duplicate key) come back in ``Parsed.diagnostics`` with that value
    dropped, so that the rest of the spec can still be checked and reported at once."""
    source = Source.of(source_name, decode(text, source_name))
    node = _compose(source)
    if node is None:
        if top == "map":
            raise SpecError(Diagnostic(source.location(0, 0), "", "the spec is empty (expected a mapping with penspec: 1, pens and objective)"))
        return Parsed(None, {"$": Location(source_name)}, {}, {}, source)
    if top == "map" and not isinstance(node, yaml.MappingNode):
        kind = "a list" if isinstance(node, yaml.SequenceNode) else f"the value {node.value!r}" if isinstance(node, yaml.ScalarNode) else "something else"
        raise SpecError(Diagnostic(source.mark(node.start_mark), "$", f"the top level of a spec must be a mapping of keys (penspec, pens, objective, ...), got {kind}"))
    builder = _Builder(source)
    try:
        data = builder.build(node, "$", 0, ())
    except RecursionError:
        raise SpecError(Diagnostic(source.mark(node.start_mark), "", "values are nested too deeply")) from None
    return Parsed(data, builder.values, builder.keys, builder.nodes, source, tuple(builder.diagnostics))
