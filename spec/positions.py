"""Where each character of a YAML string value sits in the file.

The objective expression is a YAML string; lark reports errors by character offset inside
the string. To show them in the spec file, every character of the value is mapped back to a
file offset, undoing what YAML did to the raw text: quotes, ``''`` and backslash escapes,
line folding, block-scalar indentation.
"""

from __future__ import annotations

import bisect

import yaml

from .errors import Location
from .yamlsrc import Source

_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def _flow_offsets(raw: str, base: int, style: str | None) -> list[int]:
    """File offsets of each character a plain or quoted scalar produces (raw excludes quotes)."""
    out: list[int] = []
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c in " \t":
            j = i
            while j < n and raw[j] in " \t":
                j += 1
            if j < n and raw[j] in "\r\n":  # trailing blanks before a line break are dropped
                i = j
                continue
            out.extend(base + k for k in range(i, j))
            i = j
        elif c in "\r\n":
            first, breaks = i, 0
            while i < n and raw[i] in " \t\r\n":
                if raw[i] == "\n" or (raw[i] == "\r" and (i + 1 >= n or raw[i + 1] != "\n")):
                    breaks += 1
                i += 1
            out.extend([base + first] * max(breaks - 1, 1))  # one break folds to a space
        elif style == "'" and c == "'" and i + 1 < n and raw[i + 1] == "'":
            out.append(base + i)
            i += 2
        elif style == '"' and c == "\\" and i + 1 < n:
            escape = raw[i + 1]
            if escape in "\r\n":  # escaped line break: joins the lines, drops the indentation
                i += 2
                while i < n and raw[i] in " \t\r\n":
                    i += 1
                continue
            out.append(base + i)
            i += 2 + _HEX_ESCAPES.get(escape, 0)
        else:
            out.append(base + i)
            i += 1
    return out


def _greedy_offsets(value: str, raw: str, base: int) -> list[int]:
    """Fallback for block scalars: match each visible character to the next equal raw one."""
    out: list[int] = []
    pointer = 0
    for char in value:
        if char.isspace():
            out.append(base + min(pointer, max(len(raw) - 1, 0)))
            if pointer < len(raw) and raw[pointer].isspace():
                pointer += 1
            continue
        found = raw.find(char, pointer)
        if found < 0:
            out.append(base + min(pointer, max(len(raw) - 1, 0)))
            continue
        out.append(base + found)
        pointer = found + 1
    return out


def scalar_offsets(node: yaml.ScalarNode, text: str) -> list[int]:
    """File offsets for each character of ``node.value`` plus one for the end of the value."""
    start, end = node.start_mark.index, node.end_mark.index
    raw = text[start:end]
    value = node.value
    if node.style in ("'", '"'):
        offsets = _flow_offsets(raw[1:-1], start + 1, node.style)
        end_offset = max(end - 1, start)
    elif not node.style:  # plain: PyYAML says None, libyaml ""
        offsets = _flow_offsets(raw, start, None)
        end_offset = end
    else:
        offsets = []
        end_offset = end
    if len(offsets) != len(value):  # block scalar, or something the flow rules missed
        header_end = raw.find("\n") + 1 if node.style in ("|", ">") else 0
        offsets = _greedy_offsets(value, raw[header_end:], start + header_end)
        if node.style in ("|", ">"):
            stripped = value.rstrip()
            end_offset = offsets[len(stripped) - 1] + 1 if stripped else start
    return [*offsets, end_offset]


def scalar_locations(node: yaml.ScalarNode, source: Source) -> tuple[Location, ...]:
    """The Location of each character of a scalar's value plus one past its end."""
    text = source.text
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    result = []
    for offset in scalar_offsets(node, text):
        line0 = bisect.bisect_right(starts, offset) - 1
        result.append(source.location(line0, offset - starts[line0]))
    return tuple(result)
