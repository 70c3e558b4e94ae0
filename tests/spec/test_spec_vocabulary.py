"""One vocabulary: schema.json, the Spec dataclasses, the generated reference and the
objective grammar agree; spec/ imports without torch."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import typing
from pathlib import Path

import jsonschema
import pytest

import penspec.spec as spec_api
from penspec.spec import model
from penspec.spec.build import DERIVED_FIELDS, RENAMED_FIELDS
from penspec.spec.expression import TERM_KINDS, grammar

ROOT = Path(__file__).resolve().parents[2]

SECTIONS = {
    "paper": model.Paper,
    "pens": model.Pen,
    "strokes": model.Strokes,
    "network": model.Network,
    "augment": model.Augment,
    "plot": model.Plot,
    "output": model.Output,
    "test": model.TestSettings,
    "optimize": model.OptimizeStage,
    "tile": model.TileStage,
    "finetune": model.FinetuneStage,
    "assign_pens": model.AssignPensStage,
}


def section_schemas() -> dict[str, dict]:
    props = spec_api.schema()["properties"]
    found = {name: props[name] for name in SECTIONS if name in props}
    found["pens"] = props["pens"]["items"]
    found.update(props["stages"]["items"]["properties"])
    return found


def _field_names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_schema_is_valid_draft_2020_12():
    schema = spec_api.schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_object_is_closed_and_every_property_described():
    def visit(node, path):
        if node.get("type") == "object" or "properties" in node:
            if "properties" in node:
                assert node.get("additionalProperties") is False, f"{path} must set additionalProperties: false"
            else:  # a map keyed by names (strokes.pens): values still have a schema
                assert isinstance(node.get("additionalProperties"), dict), path
        for key, sub in node.get("properties", {}).items():
            assert sub.get("description"), f"{path}.{key} has no description"
            visit(sub, f"{path}.{key}")
        if isinstance(node.get("items"), dict):
            visit(node["items"], f"{path}[]")

    visit(spec_api.schema(), "$")


def test_top_level_keys_map_to_spec_fields():
    fields = _field_names(model.Spec)
    expected = {RENAMED_FIELDS.get(("spec", key), key) for key in spec_api.schema()["properties"]}
    assert expected <= fields, f"schema keys without a Spec field: {expected - fields}"
    assert fields - expected == set(DERIVED_FIELDS["spec"])


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_section_keys_and_fields_agree(section):
    schema = section_schemas()[section]
    fields = _field_names(SECTIONS[section])
    expected = {RENAMED_FIELDS.get((section, key), key) for key in schema["properties"]}
    assert expected <= fields, f"{section}: schema keys without a field: {expected - fields}"
    extra = fields - expected - set(DERIVED_FIELDS.get(section, ()))
    assert not extra, f"{section}: fields without a schema key: {extra}"


def test_renames_name_real_keys():
    sections = {"spec": spec_api.schema(), **section_schemas()}
    for section, key in RENAMED_FIELDS:
        assert key in sections[section]["properties"], (section, key)


def test_every_default_is_valid_for_its_property():
    def visit(node, path):
        for key, sub in node.get("properties", {}).items():
            if "default" in sub:
                errors = list(jsonschema.Draft202012Validator(sub).iter_errors(sub["default"]))
                assert not errors, f"{path}.{key}: default {sub['default']!r} is invalid: {errors[0].message}"
            visit(sub, f"{path}.{key}")
        if isinstance(node.get("items"), dict):
            visit(node["items"], f"{path}[]")

    visit(spec_api.schema(), "$")


def test_grammar_knows_every_term_kind():
    literals = {t.pattern.value for t in grammar().terminals if type(t.pattern).__name__ == "PatternStr"}
    assert set(TERM_KINDS) <= literals
    assert set(TERM_KINDS) == set(typing.get_args(typing.get_type_hints(model.Term)["kind"]))


def test_reference_doc_is_current():
    path = ROOT / "docs" / "spec-reference.md"
    assert path.read_text(encoding="utf-8") == spec_api.reference_markdown(), (
        "docs/spec-reference.md is stale: run python -m penspec.spec.reference > docs/spec-reference.md"
    )


def test_reference_lists_every_key_with_its_default():
    text = spec_api.reference_markdown()
    for section, schema in section_schemas().items():
        for key, sub in schema["properties"].items():
            assert f"`{section}.{key}`" in text or f"`{section}[].{key}`" in text or f"`pens[].{key}`" in text, (section, key)
            if "default" in sub and sub["default"] != {}:
                assert json.dumps(sub["default"]) in text


def test_spec_package_imports_without_torch():
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['torchvision'] = None\n"
        "import penspec.spec as s\n"
        "spec = s.load_text('penspec: 1\\npens: [{id: a}]\\nobjective: vgg16:conv3_3:1\\n')\n"
        "s.reference_markdown(); s.parse_expression('tv + layer(a:b)')\n"
        "assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
        "print(spec.pens[0].id)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "a"
