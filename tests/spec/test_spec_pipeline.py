"""plot.pipeline is read at validate time, and what it accepts is what vpype runs."""

from __future__ import annotations

import pytest
import vpype as vp
import vpype_cli

from penspec.spec import load_text
from penspec.spec.errors import SpecError
from penspec.spec.pipeline import pipeline_problem
from penspec.spec.vocabulary import cached_schema

ACCEPTED = [
    cached_schema()["properties"]["plot"]["properties"]["pipeline"]["default"],
    "",
    "linemerge --tolerance 0.1mm linesort",
    "linesimplify -t 0.05mm reloop linesort --two-opt --passes 10",
    "linemerge -t %0.1*2%mm",  # an expression: vpype evaluates it when it runs
]
REJECTED = [
    # (pipeline, offset of the problem, message substring)
    ("linemerge linesimplfy", 10, "unknown vpype command 'linesimplfy' (did you mean 'linesimplify'?)"),
    ("linesort --two-op", 0, "No such option '--two-op'"),
    ("linemerge linesimplify -t fine", 26, "cannot convert value 'fine'"),
    ("linesort --passes many", 18, "-p/--passes"),
    ("linemerge -t", 0, "requires an argument"),
    ("--two-opt linesort", 0, "expected a vpype command"),
    ('linemerge "unclosed', 19, "no closing quotation"),
    ("linemerge --help", 10, "--help has no place"),
]


@pytest.mark.parametrize("pipeline", ACCEPTED)
def test_accepted_pipelines_run_in_vpype(pipeline):
    assert pipeline_problem(pipeline) is None
    document = vp.Document(vp.LineCollection([[0, 10 + 10j], [10 + 10j, 20]]))
    vpype_cli.execute(pipeline, document)


@pytest.mark.parametrize(("pipeline", "offset", "message"), REJECTED)
def test_rejected_pipelines_say_where_and_what_and_vpype_agrees(pipeline, offset, message):
    assert pipeline_problem(pipeline) is not None
    at, said = pipeline_problem(pipeline)
    assert (at, message in said) == (offset, True), said
    if "--help" not in pipeline:  # vpype would print its help and exit
        with pytest.raises(Exception):  # noqa: B017 - vpype raises click's errors, ValueError, ...
            vpype_cli.execute(pipeline, vp.Document(vp.LineCollection([[0, 10 + 10j]])))


def test_a_bad_pipeline_is_a_spec_error_at_its_column():
    text = "penspec: 1\npens: [{id: black}]\nobjective: channel(vgg16:conv3_3, 37)\nplot:\n  pipeline: linemerge reloopp\n"
    with pytest.raises(SpecError) as caught:
        load_text(text, "piece.yaml")
    (found,) = caught.value.diagnostics
    assert (found.location.line, found.location.column, found.path) == (5, 23, "$.plot.pipeline")
    assert "did you mean 'reloop'" in found.message
