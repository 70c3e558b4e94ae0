import dataclasses

import pytest
from tests.support.compile_fixtures import channel, make_spec, objective, tv

from penspec.compiler import compile_spec
from penspec.compiler.layers import layer_tables
from penspec.spec.errors import CompileError
from penspec.spec.model import Network, Term


def compile_terms(*terms, **kw):
    return compile_spec(make_spec(objective=objective(*terms), **kw))


def test_alias_resolves_to_module_and_channel_count():
    term = compile_terms(channel("vgg16", "conv3_3", 37)).objective.terms[0]
    assert (term.module, term.channels, term.channel) == ("features.14", 256, 37)


@pytest.mark.parametrize(
    "net, layer, module, channels",
    [
        ("vgg19", "conv5_4", "features.34", 512),
        ("alexnet", "conv5", "features.10", 256),
        ("resnet18", "layer3", "layer3", 256),
        ("resnet18", "layer3.1", "layer3.1", 256),
        ("resnet50", "layer3.1.conv2", "layer3.1.conv2", 256),
        ("efficientnet_lite0", "head", "_bn1", 1280),
        ("efficientnet_lite0", "block5", "_blocks.5", 80),
        ("vgg16", "features.14", "features.14", 256),
    ],
)
def test_aliases_and_module_paths(net, layer, module, channels):
    term = compile_terms(channel(net, layer, 0)).objective.terms[0]
    assert (term.module, term.channels) == (module, channels)


def test_every_alias_points_at_a_listed_module():
    for table in layer_tables().values():
        assert set(table.aliases.values()) <= set(table.modules)


def test_nets_list_modules_by_depth_and_the_deepest():
    plan = compile_terms(
        channel("vgg16", "conv4_1", 3, column=1),
        channel("vgg16", "conv2_1", 5, column=30),
        channel("resnet18", "layer2", 1, column=60),
        tv(column=90),
    )
    nets = {n.name: n for n in plan.objective.nets}
    assert nets["vgg16"].modules == ("features.5", "features.17")
    assert nets["vgg16"].deepest == "features.17"
    assert nets["resnet18"].deepest == "layer2"
    assert plan.objective.terms[-1].module is None


def test_channel_out_of_range_points_into_the_expression():
    with pytest.raises(CompileError) as err:
        compile_terms(channel("vgg16", "conv3_3", 300))
    (d,) = err.value.diagnostics
    assert "channel 300 is out of range" in d.message and "256 channels (0..255)" in d.message
    assert d.path == "$.objective"


def test_unknown_net_lists_the_closest_first():
    with pytest.raises(CompileError) as err:
        compile_terms(channel("vgg61", "conv3_3", 1))
    msg = err.value.diagnostics[0].message
    assert "unknown network 'vgg61'" in msg
    assert msg.index("vgg16") < msg.index("efficientnet_lite0")


def test_unknown_layer_suggests_the_typo_fix():
    with pytest.raises(CompileError) as err:
        compile_terms(channel("vgg16", "conv3_33", 1))
    msg = err.value.diagnostics[0].message
    assert "vgg16 has no layer 'conv3_33'" in msg and "did you mean 'conv3_3'" in msg


def test_all_bad_terms_are_reported_at_once():
    with pytest.raises(CompileError) as err:
        compile_terms(channel("vgg16", "conv3_3", 999), channel("nope", "x", 1, column=40))
    assert len(err.value.diagnostics) == 2


def test_style_image_must_exist(tmp_path):
    style = Term(kind="style", weight=1.0, text='style(vgg16:conv2_2, "ref.png")', column=1, net="vgg16", layer="conv2_2", image="ref.png")
    with pytest.raises(CompileError, match="style image 'ref.png' does not exist"):
        compile_terms(style, base_dir=str(tmp_path))
    (tmp_path / "ref.png").write_bytes(b"not really a png, but present")
    term = compile_terms(style, base_dir=str(tmp_path)).objective.terms[0]
    assert term.image == "ref.png" and term.module == "features.7"


def test_weights_file_must_exist(tmp_path):
    spec = make_spec(network=Network(weights="mine.pth", leaky_relu=0.1), base_dir=str(tmp_path))
    with pytest.raises(CompileError) as err:
        compile_spec(spec)
    assert err.value.diagnostics[0].path == "$.network.weights"
    (tmp_path / "mine.pth").write_bytes(b"weights")
    net = compile_spec(spec).objective.nets[0]
    assert (net.weights, net.leaky_relu) == ("mine.pth", 0.1)


def test_smoke_build_weights_file_must_exist(tmp_path):
    spec = make_spec(base_dir=str(tmp_path))
    spec = dataclasses.replace(spec, test=dataclasses.replace(spec.test, weights="small.pth"))
    with pytest.raises(CompileError) as err:
        compile_spec(spec)
    assert [d.path for d in err.value.diagnostics] == ["$.test.weights"]


def test_neuron_defaults_to_the_centre():
    term = Term(kind="neuron", weight=1.0, text="neuron(vgg16:conv3_3, 4)", column=1, net="vgg16", layer="conv3_3", channel=4)
    assert compile_terms(term).objective.terms[0].position == (0.5, 0.5)
    off = dataclasses.replace(term, position=(0.5, 1.5), text="neuron(vgg16:conv3_3, 4, x=0.5, y=1.5)")
    with pytest.raises(CompileError, match="y=1.5 is off the map"):
        compile_terms(off)


def test_strokes_crowding_adds_the_knot_cost_to_the_objective():
    spec = make_spec(objective=objective(channel(), tv(1e-4)))
    plain = compile_spec(spec)
    assert [t.kind for t in plain.objective.terms] == ["channel", "tv"]  # the fixture sets crowding 0
    on = compile_spec(dataclasses.replace(spec, strokes=dataclasses.replace(spec.strokes, crowding=0.5)))
    assert [(t.kind, t.weight) for t in on.objective.terms][-1] == ("crowding", -0.5)
    assert on.objective.expression == plain.objective.expression + " - 0.5 * crowding"
    assert on.stages[0].fingerprint != plain.stages[0].fingerprint


def test_the_objectives_own_crowding_weight_wins():
    from penspec.spec import load_text

    text = (
        "penspec: 1\ncanvas: 224\npaper: {size: 100x100mm, margin: 0mm}\npens: [{id: black}]\n"
        'objective: "channel(efficientnet_lite0:block9, 17) - 0.2 * crowding"\n'
    )
    plan = compile_spec(load_text(text, source="piece.yaml"))  # strokes.crowding at its default
    assert [(t.kind, t.weight) for t in plan.objective.terms] == [("channel", 1.0), ("crowding", -0.2)]
    assert plan.objective.expression == "channel(efficientnet_lite0:block9, 17) - 0.2 * crowding"
    default = compile_spec(load_text(text.replace(" - 0.2 * crowding", ""), source="piece.yaml"))
    assert default.objective.expression.endswith(" - 0.3 * crowding")
    off = compile_spec(load_text(text.replace(" - 0.2 * crowding", ""), source="piece.yaml", overrides=["strokes.crowding=0"]))
    assert [t.kind for t in off.objective.terms] == ["channel"]
