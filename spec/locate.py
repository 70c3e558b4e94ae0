"""Where a JSON path came from: the YAML file (key or value) or a ``--set`` override."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Location
from .overrides import override_location
from .yamlsrc import Parsed


def parent_path(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else "$"


@dataclass(frozen=True)
class Locator:
    """Maps JSON paths to locations, preferring the override that set a value."""

    parsed: Parsed
    placed: dict[str, Location] = field(default_factory=dict)
    rewritten: dict = field(default_factory=dict)  # JSON path -> variables.Rewrite (the objective after $name)

    def value(self, path: str) -> Location:
        """Where the value at ``path`` starts (or its nearest located parent)."""
        found = override_location(path, self.placed)
        if found is not None:
            return found
        while True:
            if path in self.parsed.values:
                return self.parsed.values[path]
            if path == "$":
                return self.parsed.source.location(0, 0)
            path = parent_path(path)

    def key(self, path: str) -> Location:
        """Where the key of ``path`` is written; the value's location when it has no key."""
        found = override_location(path, self.placed)
        if found is not None:
            return found
        if path in self.parsed.keys:
            return self.parsed.keys[path]
        return self.value(path)

    def locations(self) -> dict[str, Location]:
        """Every value's location with overrides applied (what Spec.locations holds)."""
        result = {p: self.value(p) for p in self.parsed.values}
        result.update(self.placed)
        return result
