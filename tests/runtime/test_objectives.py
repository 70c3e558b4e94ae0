"""Objectives: describe() reads like the spec, values are right on known inputs, and the
contract every registered term must meet: a few Adam steps on the strokes lower its loss on a
tiny random-init net."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.support.factories import make_plan
from penspec.compiler.plan import NetPlan, TermPlan
from penspec.runtime.augment import TRAIN, sample_views, view_homographies
from penspec.runtime.draw import pen_look, render_views
from penspec.runtime.nets import load_net
from penspec.runtime.objectives import (
    Channel,
    Crowding,
    Diversity,
    Features,
    Layer,
    Neuron,
    Objective,
    TotalVariation,
    build_objective,
    gram,
    make_term,
    resolve_image,
)
from penspec.runtime.strokes import init_strokes
from penspec.spec.errors import MissingResourceError, SpecError
from PIL import Image

NET = NetPlan(name="resnet18", weights="random", leaky_relu=None, modules=("layer1",), deepest="layer1")


def term(kind, weight=1.0, **kw) -> TermPlan:
    defaults = {"net": "resnet18", "layer": "layer1", "module": "layer1", "channels": 64}
    if kind in ("tv", "crowding"):
        defaults = {}
    text = kw.pop("text", kind)
    return TermPlan(kind=kind, weight=weight, text=text, **{**defaults, **kw})


@pytest.fixture(scope="module")
def fnet():
    return load_net(NET, ".", seed=3)


@pytest.fixture
def style_image(tmp_path):
    yy, xx = np.mgrid[0:64, 0:64]
    arr = np.stack([(np.sin(xx / 3) > 0) * 255, (np.cos(yy / 5) > 0) * 200, xx * 4], -1).astype(np.uint8)
    Image.fromarray(arr, "RGB").save(tmp_path / "style.png")
    return tmp_path


CONTRACT = {
    "channel": lambda: term("channel", channel=5),
    "neuron": lambda: term("neuron", channel=5, position=(0.25, 0.5)),
    "layer": lambda: term("layer"),
    "diversity": lambda: term("diversity"),
    "style": lambda: term("style", image="style.png"),
    "tv": lambda: term("tv", weight=-1e-3),
    "crowding": lambda: term("crowding", weight=-1.0),
}


@pytest.mark.parametrize("kind", sorted(CONTRACT))
def test_loss_decreases_in_a_few_steps(kind, fnet, style_image):
    plan = make_plan(canvas=64, strokes=24)
    crop = 48
    objective = build_objective(
        plan.objective.__class__(expression=kind, terms=(CONTRACT[kind](),), nets=(NET,)),
        nets={"resnet18": fnet}, base_dir=style_image, crop=crop,
    )
    strokes = init_strokes(plan, (64, 64))
    look = pen_look(plan, strokes)
    views = view_homographies(sample_views(plan.seed, TRAIN, 0, 0, 3, plan.augment, strokes.region), crop)
    points = strokes.points.clone().requires_grad_(True)
    opt = torch.optim.Adam([points], lr=1.0)

    def loss_now():
        images = render_views(strokes, points, look, views, crop)
        return objective.loss(Features(images, {"resnet18": fnet(images)}, strokes.control_points(points), strokes.segment_stroke))

    with torch.no_grad():
        first = loss_now()
    for _ in range(6):
        opt.zero_grad()
        loss = loss_now()
        loss.backward()
        opt.step()
    with torch.no_grad():
        last = loss_now()
    assert float(last) < float(first), f"{kind}: {float(first)} -> {float(last)}"


def test_describe_reads_like_the_spec():
    obj = Objective((
        (1.0, Channel("vgg16", "features.14", 37, "conv3_3")),
        (-1e-5, TotalVariation()),
        (0.5, Diversity("vgg16", "features.14", "conv3_3")),
    ))
    assert obj.describe() == "channel(vgg16:conv3_3, 37) - 1e-05 * tv + 0.5 * diversity(vgg16:conv3_3)"
    assert Neuron("vgg16", "features.14", 3, (0.25, 0.5), "conv3_3").describe() == "neuron(vgg16:conv3_3, 3, x=0.25, y=0.5)"
    assert Neuron("vgg16", "features.14", 3).describe() == "neuron(vgg16:features.14, 3)"
    assert Layer("resnet18", "layer3", "layer3").describe() == "layer(resnet18:layer3)"
    assert (-Objective(((2.0, TotalVariation()),))).describe() == "-2 * tv"


def test_objectives_compose():
    a = Objective(((1.0, Channel("n", "m", 1)),))
    b = Objective(((1.0, TotalVariation()),))
    assert (a - 0.5 * b).terms == ((1.0, Channel("n", "m", 1)), (-0.5, TotalVariation()))


def known_features():
    act = torch.zeros(2, 3, 4, 4)
    act[0, 1] = 2.0
    act[1, 1] = 4.0
    act[:, 2, 1, 3] = 5.0  # x = 3, y = 1
    img = torch.zeros(2, 3, 4, 4)
    img[..., :, 2:] = 1.0  # one vertical edge per channel
    return Features(img, {"n": {"m": act}})


def test_channel_neuron_layer_values():
    f = known_features()
    assert float(Channel("n", "m", 1).score(f)) == pytest.approx(3.0)
    assert float(Neuron("n", "m", 2, (0.8, 0.3)).score(f)) == pytest.approx(5.0)
    assert float(Neuron("n", "m", 2).score(f)) == pytest.approx(0.0)
    expected = ((4 * 16 + 25) / 48 + (16 * 16 + 25) / 48) / 2
    assert float(Layer("n", "m").score(f)) == pytest.approx(expected)


def test_tv_counts_edges():
    f = known_features()
    # per view: 3 channels x 4 rows x one unit step
    assert float(TotalVariation().score(f)) == pytest.approx(12.0)


def test_diversity_of_identical_views_is_minus_one_and_single_view_zero():
    act = torch.rand(1, 4, 5, 5).repeat(3, 1, 1, 1)
    f = Features(torch.zeros(3, 3, 5, 5), {"n": {"m": act}})
    assert float(Diversity("n", "m").score(f)) == pytest.approx(-1.0, abs=1e-5)
    f1 = Features(torch.zeros(1, 3, 5, 5), {"n": {"m": act[:1]}})
    assert float(Diversity("n", "m").score(f1)) == 0.0


def test_gram_normalised():
    act = torch.ones(1, 2, 3, 3)
    assert torch.allclose(gram(act), torch.full((1, 2, 2), 9 / 18))


def test_style_is_zero_on_its_own_image(fnet, style_image):
    style = make_term(term("style", image="style.png"), nets={"resnet18": fnet}, base_dir=style_image, crop=48)
    from penspec.runtime.objectives import load_image

    img = load_image(style_image / "style.png", 48)
    f = Features(img, {"resnet18": fnet(img)})
    assert float(style.score(f)) == pytest.approx(0.0, abs=1e-8)
    assert style.describe() == 'style(resnet18:layer1, "style.png")'


def test_style_image_may_not_leave_the_spec_folder(tmp_path, style_image):
    inner = tmp_path / "piece"
    inner.mkdir()
    with pytest.raises(SpecError, match="outside the spec's folder"):
        resolve_image("../style.png", inner)
    assert resolve_image(str(tmp_path / "style.png"), inner) == tmp_path / "style.png"
    with pytest.raises(MissingResourceError, match="not found"):
        resolve_image("missing.png", inner)


def lines_through(centre: tuple[float, float], angles_deg: list[float], half: float = 20.0) -> Features:
    """Straight one-segment strokes of length ``2 * half`` through ``centre``, one per angle."""
    cps = []
    for a in angles_deg:
        d = torch.tensor([np.cos(np.radians(a)), np.sin(np.radians(a))], dtype=torch.float32)
        c = torch.tensor(centre, dtype=torch.float32)
        cps.append(torch.stack([c - half * d, c - half * d / 3, c + half * d / 3, c + half * d]))
    return Features(torch.zeros(1, 3, 8, 8), {}, torch.stack(cps), torch.arange(len(angles_deg)))


def test_crowding_counts_strokes_through_one_place():
    knot = Crowding().score(lines_through((50.0, 50.0), [0, 45, 90, 135, 22]))
    two = Crowding().score(lines_through((50.0, 50.0), [0, 90]))
    assert float(two) == 0.0  # two strokes crossing are not a knot
    assert float(knot) > 0.5
    # the same five strokes spread out cost nothing
    apart = [lines_through((20.0 + 30 * i, 30.0 * i + 10), [a]) for i, a in enumerate([0, 45, 90, 135, 22])]
    spread = Features(torch.zeros(1), {}, torch.cat([f.control_points for f in apart]), torch.arange(5))
    assert float(Crowding().score(spread)) == 0.0
    # one stroke looping over itself many times counts once
    loop = lines_through((50.0, 50.0), [0, 60, 120, 180, 240])
    one = Features(loop.images, {}, loop.control_points, torch.zeros(5, dtype=torch.long))
    assert float(Crowding().score(one)) == 0.0


def test_crowding_pushes_strokes_apart_and_needs_strokes():
    f = lines_through((50.0, 50.0), [0, 45, 90, 135, 22])
    cps = f.control_points.clone().requires_grad_(True)
    score = Crowding().score(Features(f.images, {}, cps, f.segment_stroke))
    score.backward()
    assert cps.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="reads the strokes"):
        Crowding().score(Features(f.images, {}))
    assert Objective(((-0.5, Crowding()),)).describe() == "-0.5 * crowding"
