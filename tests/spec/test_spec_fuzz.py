"""Property tests: whatever the input, loading either succeeds or raises SpecError.

Three sources of input: arbitrary text, arbitrary nested data dumped as YAML, and valid specs
with keys deleted, replaced or retyped at random (the likeliest real mistakes).
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from penspec.spec import load_text
from penspec.spec.errors import SpecError
from penspec.spec.model import Spec

FULL = yaml.safe_load((Path(__file__).parent / "data" / "full.yaml").read_text(encoding="utf-8"))
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_SMALL = settings(FUZZ, max_examples=100)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["0.3mm", "5", "a3", "#111", "learn", "tv", "5deg", "imagenet", "vgg16:conv3_3:1", "[1, 2]"]),
)
nested = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=10), children, max_size=4),
    ),
    max_leaves=12,
)


def dump(data) -> str:
    """YAML text for generated data (libyaml's dumper when present: the fuzz budget is small)."""
    return yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True)


def outcome(text: str | bytes, overrides=()) -> None:
    try:
        spec = load_text(text, source="fuzz.yaml", overrides=overrides)
    except SpecError as exc:
        assert exc.diagnostics, "a SpecError always carries diagnostics"
        exc.render()
        return
    assert isinstance(spec, Spec)


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text(text):
    outcome(text)


@FUZZ
@given(st.binary(max_size=200))
def test_arbitrary_bytes(data):
    outcome(data)


@FUZZ
@given(nested)
def test_arbitrary_data_as_yaml(data):
    outcome(dump(data))


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


PATHS = [p for p in _paths(FULL) if p]


def _mutate(data, path, action, replacement):
    data = copy.deepcopy(data)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    key = path[-1]
    if action == "delete":
        del parent[key]
    elif action == "replace":
        parent[key] = replacement
    elif action == "retype":
        value = parent[key]
        parent[key] = str(value) if not isinstance(value, str) else [value]
    elif action == "unknown" and isinstance(parent, dict):
        parent[f"{key}x"] = replacement
    return data


mutations = st.lists(
    st.tuples(st.sampled_from(PATHS), st.sampled_from(["delete", "replace", "retype", "unknown"]), nested),
    min_size=1,
    max_size=4,
)


@FUZZ
@given(mutations)
def test_mutated_valid_specs(steps):
    data = FULL
    for path, action, replacement in steps:
        try:
            data = _mutate(data, path, action, replacement)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or changed the path
    outcome(dump(data))


@FUZZ_SMALL
@given(st.lists(st.text(max_size=30), max_size=3))
def test_arbitrary_overrides(overrides):
    outcome(dump(FULL), overrides=overrides)


@FUZZ_SMALL
@given(st.lists(st.tuples(st.sampled_from([".".join(map(str, p)) for p in PATHS]), scalars), max_size=3))
def test_overrides_on_real_paths(pairs):
    outcome(dump(FULL), overrides=[f"{path}={dump(value).splitlines()[0] if value is not None else ''}" for path, value in pairs])


@FUZZ_SMALL
@given(st.text(alphabet=st.sampled_from(list("channel(vgg16:conv3_3, 37) - 1e-5 * tv neuron x=y style'\"\n")), max_size=60))
def test_objective_expressions(expression):
    outcome(dump({**FULL, "objective": expression}))
