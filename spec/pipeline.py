"""`plot.pipeline`: a vpype command pipeline, read at validate time the way vpype will read it.

The emitter hands the pipeline to ``vpype_cli.execute`` after the whole build; a typo there
would surface only then. :func:`pipeline_problem` splits the text as vpype does (shell words),
resolves every command (built-in or a ``vpype.plugins`` entry point), parses its options with
click and converts each value with vpype's own evaluators, without running anything. Values
with property or expression substitution (``%...%``, ``{...}``) depend on the drawing and are
left to vpype.
"""

from __future__ import annotations

import importlib.metadata
import shlex
from typing import Any

from .suggest import did_you_mean

INCLUDE = ("-I", "--include")


def _words(text: str) -> list[tuple[str, int]]:
    """Shell words with the offset of each in ``text`` (quoted words: where the quote opens)."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    words = []
    start = 0
    for word in lexer:
        at = text.find(word, start)
        if at < 0:  # a quoted word does not appear as such: point at its first non-blank
            at = len(text) - len(text[start:].lstrip())
        words.append((word, at))
        start = max(start, at + 1)
    return words


def _substituted(value: Any) -> bool:
    """vpype fills ``%expression%`` and ``{property}`` in from the drawing when it runs."""
    return value is not None and ("%" in str(value) or "{" in str(value))


def _plugin(name: str) -> Any:
    """The command of the installed vpype plugin ``name`` (vpype loads the same entry points);
    a plugin that fails to load counts as absent, as vpype would only run a stub for it."""
    for entry in importlib.metadata.entry_points().select(group="vpype.plugins"):
        if entry.name == name:
            try:
                return entry.load()
            except Exception:  # a broken plugin: vpype itself catches this the same way
                return None
    return None


def pipeline_problem(text: str) -> tuple[int, str] | None:
    """``(offset, message)`` for the first thing vpype could not read in ``text``, else None."""
    try:
        words = _words(text)
    except ValueError as exc:  # shlex: an unclosed quote
        return len(text), f"cannot read the vpype pipeline: {str(exc).lower()}"
    import click
    import vpype_cli
    from vpype_cli.state import State

    for word, at in words:
        if word == "--help":  # click would print the help and exit
            return at, "--help has no place in a pipeline"
    group = vpype_cli.cli
    root = click.Context(group, info_name="vpype")
    state = State()
    index = 0
    while index < len(words):
        name, at = words[index]
        if name in INCLUDE:  # a command file: vpype reads it at run time, relative to its cwd
            return None
        if name.startswith("-"):
            return at, f"expected a vpype command, got the option {name!r}"
        command = group.get_command(root, name) or _plugin(name)
        if command is None:
            known = group.list_commands(root)
            return at, f"unknown vpype command {name!r}{did_you_mean(name, known)}"
        rest = [w for w, _ in words[index + 1 :]]
        try:  # click consumes the list it parses: hand it a copy
            sub = command.make_context(name, list(rest), parent=root, allow_extra_args=True, allow_interspersed_args=False)
        except click.ClickException as exc:
            return at, f"vpype {name}: {exc.format_message()}"
        used = len(rest) - len(sub.args)
        for param in command.params:
            value = sub.params.get(param.name)
            if any(_substituted(v) for v in (value if isinstance(value, tuple) else (value,))):
                continue
            try:
                state.preprocess_argument(value)
            except click.ClickException as exc:
                written = [a for w, a in words[index + 1 : index + 1 + used] if w == str(value)]
                return (written or [at])[0], f"vpype {name} {'/'.join(param.opts)}: {exc.format_message()}"
        index += 1 + used
    return None
