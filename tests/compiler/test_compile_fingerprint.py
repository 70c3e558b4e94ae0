"""Fingerprints: a change to the drawing reruns its own stage and those after it, never the ones
before; a change to the look (how the pens ink) changes the plan's look hash and no fingerprint;
settings only the emitters read change neither."""

import dataclasses

import pytest
from tests.support.compile_fixtures import finetune, make_spec, optimize, paper, pen, tile

from penspec.compiler import compile_spec
from penspec.spec.model import Output, Term


def base():
    return make_spec(canvas=1024, paper=paper("a3", landscape=True), stages=(optimize(256), tile(4), finetune(steps=1500)))


def prints(spec):
    return [s.fingerprint for s in compile_spec(spec).stages]


def look(spec):
    return compile_spec(spec).look_sha256


def changed(a, b):
    return [x != y for x, y in zip(prints(a), prints(b), strict=True)]


def test_fingerprints_are_sha256_and_distinct():
    fps = prints(base())
    assert all(len(f) == 64 and int(f, 16) >= 0 for f in fps)
    assert len(set(fps)) == 3


EMITTER_ONLY = {
    "title": lambda s: dataclasses.replace(s, title="another title"),
    "pen speeds/heights/delay": lambda s: dataclasses.replace(
        s, pens=(dataclasses.replace(s.pens[0], speed_pendown=50, speed_penup=100, pen_pos_down=10, pen_pos_up=90, delay_ms=200,
                                     max_draw_length_mm=1000.0),)),
    "plot": lambda s: dataclasses.replace(s, plot=dataclasses.replace(s.plot, pipeline="linesort", optimize=False, accel=40,
                                                                      pause_between_pens=False, max_draw_length_mm=5.0)),
    "output": lambda s: dataclasses.replace(s, output=Output(dir="elsewhere", snapshot_every=0, checkpoint_every=5, preview_dpi=300)),
    "test": lambda s: dataclasses.replace(s, test=dataclasses.replace(s.test, steps=9, views=1)),
    "spec location": lambda s: dataclasses.replace(s, source="x/y.yaml", locations={}),
}


@pytest.mark.parametrize("what", sorted(EMITTER_ONLY))
def test_emitter_only_settings_rerun_nothing(what):
    assert changed(base(), EMITTER_ONLY[what](base())) == [False, False, False]
    assert look(EMITTER_ONLY[what](base())) == look(base())


LOOK = {
    "pen width": lambda s: dataclasses.replace(s, pens=(dataclasses.replace(s.pens[0], width_mm=0.5),)),
    "pen colour": lambda s: dataclasses.replace(s, pens=(pen(color="#1f4e9c"),)),
    "pen opacity": lambda s: dataclasses.replace(s, pens=(dataclasses.replace(s.pens[0], opacity=0.5),)),
    "paper colour": lambda s: dataclasses.replace(s, paper=dataclasses.replace(s.paper, rgb=(1.0, 1.0, 0.9))),
    "margin (mm per px, so nib px)": lambda s: dataclasses.replace(s, paper=dataclasses.replace(s.paper, margin_mm=25.0)),
}


@pytest.mark.parametrize("what", sorted(LOOK))
def test_look_changes_keep_every_fingerprint_and_change_the_look(what):
    assert changed(base(), LOOK[what](base())) == [False, False, False]
    assert look(LOOK[what](base())) != look(base())


OPTIMISATION_INPUTS = {
    "seed": lambda s: dataclasses.replace(s, seed=1),
    "strokes": lambda s: dataclasses.replace(s, strokes=dataclasses.replace(s.strokes, extent=0.2)),
    "objective": lambda s: dataclasses.replace(s, objective=dataclasses.replace(
        s.objective, terms=(dataclasses.replace(s.objective.terms[0], channel=7),))),
    "network": lambda s: dataclasses.replace(s, network=dataclasses.replace(s.network, leaky_relu=0.1)),
    "augment": lambda s: dataclasses.replace(s, augment=dataclasses.replace(s.augment, jitter_px=4)),
}


@pytest.mark.parametrize("what", sorted(OPTIMISATION_INPUTS))
def test_optimisation_inputs_rerun_everything(what):
    assert changed(base(), OPTIMISATION_INPUTS[what](base())) == [True, True, True]
    assert look(OPTIMISATION_INPUTS[what](base())) == look(base())


def test_reordering_pens_is_a_new_drawing_not_a_re_ink():
    """Strokes belong to a pen by its place: swapping two pens must not recolour their strokes."""
    two = dataclasses.replace(base(), pens=(pen("black"), pen("blue", color="#1f4e9c")),
                              strokes=dataclasses.replace(base().strokes, pens=(("black", 0.5), ("blue", 0.5))))
    swapped = dataclasses.replace(two, pens=tuple(reversed(two.pens)), strokes=dataclasses.replace(two.strokes, pens=tuple(reversed(two.strokes.pens))))
    assert changed(two, swapped) == [True, True, True]


def test_a_stage_change_reruns_it_and_later_stages_only():
    later = dataclasses.replace(base(), stages=(optimize(256), tile(4), finetune(steps=100)))
    assert changed(base(), later) == [False, False, True]
    first = dataclasses.replace(base(), stages=(optimize(256, steps=10), tile(4), finetune(steps=1500)))
    assert changed(base(), first) == [True, True, True]


def test_style_image_content_enters_the_fingerprint(tmp_path):
    (tmp_path / "ref.png").write_bytes(b"one")
    term = Term(kind="style", weight=1.0, text='style(vgg16:conv2_2, "ref.png")', column=1, net="vgg16", layer="conv2_2", image="ref.png")
    spec = dataclasses.replace(base(), base_dir=str(tmp_path), objective=dataclasses.replace(base().objective, terms=(term,)))
    before = prints(spec)
    (tmp_path / "ref.png").write_bytes(b"two")
    assert prints(spec) != before
