"""compiler/layers.json checked against the real networks (random init, nothing downloaded).

The compiler resolves layer names from a static table so that `penspec validate` and
`penspec plan` never import torch. This test builds each network, runs a small input through it
with a forward hook on every module, and checks that every table entry names a real module whose
output has the channel count the table says, that the table's order is the order in which module
outputs are produced (the runtime truncates the net after the deepest module), and that every
alias points at a listed module.

Run this file as a script (`python tests/runtime/test_layer_tables.py`) to regenerate the table
from the networks after adding a network; review the diff before committing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

TABLE = Path(__file__).resolve().parents[2] / "compiler" / "layers.json"
PROBE_PX = 64  # big enough for every net's deepest spatial layer


def build_net(name: str) -> torch.nn.Module:
    """The network the runtime uses for a registry name, with random weights."""
    if name == "efficientnet_lite0":
        from efficientnet_lite_pytorch import EfficientNet

        return EfficientNet.from_name("efficientnet-lite0")
    return getattr(torchvision.models, name)(weights=None)


def probe(net: torch.nn.Module) -> list[tuple[str, int]]:
    """(module path, output channels) for every module that produces one 4-D output per forward
    pass, in the order the outputs are produced. Modules called more than once (shared
    activations) and padding helpers are left out: a hook on them would not name one place."""
    calls: list[tuple[str, tuple[int, ...]]] = []
    handles = []
    for path, module in net.named_modules():
        if path:
            handles.append(module.register_forward_hook(lambda m, i, o, p=path: calls.append((p, tuple(o.shape)))))
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, 3, PROBE_PX, PROBE_PX))
    for h in handles:
        h.remove()
    counts: dict[str, int] = {}
    for path, _ in calls:
        counts[path] = counts.get(path, 0) + 1
    return [
        (path, shape[1])
        for path, shape in calls
        if counts[path] == 1 and len(shape) == 4 and not path.endswith("static_padding")
    ]


def friendly_aliases(name: str, net: torch.nn.Module) -> dict[str, str]:
    """The friendly names people use in papers and blog posts, per family."""
    aliases: dict[str, str] = {}
    if name.startswith("vgg"):
        block, conv = 1, 0
        for idx, layer in enumerate(net.features):
            path = f"features.{idx}"
            if isinstance(layer, torch.nn.Conv2d):
                conv += 1
                aliases[f"conv{block}_{conv}"] = path
            elif isinstance(layer, torch.nn.ReLU):
                aliases[f"relu{block}_{conv}"] = path
            elif isinstance(layer, torch.nn.MaxPool2d):
                aliases[f"pool{block}"] = path
                block, conv = block + 1, 0
    elif name == "alexnet":
        n = {"conv": 0, "relu": 0, "pool": 0}
        for idx, layer in enumerate(net.features):
            kind = {torch.nn.Conv2d: "conv", torch.nn.ReLU: "relu", torch.nn.MaxPool2d: "pool"}.get(type(layer))
            if kind:
                n[kind] += 1
                aliases[f"{kind}{n[kind]}"] = f"features.{idx}"
    elif name == "efficientnet_lite0":
        aliases["stem"] = "_bn0"
        for idx in range(len(net._blocks)):
            aliases[f"block{idx}"] = f"_blocks.{idx}"
        aliases["head"] = "_bn1"
    # resnets: the module paths themselves (conv1, layer3, layer3.1, ...) are the friendly names
    return aliases


def write_table() -> None:
    """Regenerate compiler/layers.json, one module per line so diffs stay readable."""
    nets = json.loads(TABLE.read_text())["nets"] if TABLE.exists() else {}
    names = sorted(set(nets) | set(REGISTRY))
    out = ['{', '  "about": "Layer tables per network: module paths in the order their outputs are produced, with output channels, and friendly aliases. Checked against the real models by tests/runtime/test_layer_tables.py.",', '  "nets": {']
    for n, name in enumerate(names):
        net = build_net(name)
        modules = probe(net)
        aliases = friendly_aliases(name, net)
        out.append(f'    "{name}": {{')
        out.append('      "modules": [')
        out.extend(f'        [{json.dumps(p)}, {c}]' + ("," if i < len(modules) - 1 else "") for i, (p, c) in enumerate(modules))
        out.append('      ],')
        out.append('      "aliases": {' + ", ".join(f"{json.dumps(a)}: {json.dumps(p)}" for a, p in aliases.items()) + '}')
        out.append('    }' + ("," if n < len(names) - 1 else ""))
    out += ['  }', '}']
    TABLE.write_text("\n".join(out) + "\n")


def _table() -> dict:
    return json.loads(TABLE.read_text())["nets"]


REGISTRY = ("alexnet", "efficientnet_lite0", "resnet18", "resnet50", "vgg16", "vgg19")


def test_table_covers_the_registry():
    assert sorted(_table()) == list(REGISTRY)


@pytest.mark.parametrize("name", REGISTRY)
def test_every_entry_matches_the_real_network(name):
    entry = _table()[name]
    net = build_net(name)
    real = dict(probe(net))
    order = [p for p, _ in probe(net)]
    listed = [p for p, _ in entry["modules"]]
    existing = {p for p, _ in net.named_modules()}
    for path, channels in entry["modules"]:
        assert path in existing, f"{name}: no module {path}"
        assert path in real, f"{name}: {path} does not give one 4-D output"
        assert real[path] == channels, f"{name}: {path} has {real[path]} channels, table says {channels}"
    assert listed == [p for p in order if p in set(listed)], f"{name}: table order is not the forward order"
    for alias, path in entry["aliases"].items():
        assert path in set(listed), f"{name}: alias {alias} -> {path} is not a listed module"


def test_known_anchors():
    """Spot checks against published architecture tables (not derived from the probe)."""
    t = _table()
    mods = {name: dict(map(tuple, e["modules"])) for name, e in t.items()}
    assert t["vgg16"]["aliases"]["conv3_3"] == "features.14" and mods["vgg16"]["features.14"] == 256
    assert t["vgg19"]["aliases"]["conv5_4"] == "features.34" and mods["vgg19"]["features.34"] == 512
    assert mods["resnet18"]["layer3"] == 256 and mods["resnet50"]["layer3"] == 1024
    assert mods["resnet50"]["layer3.1.conv2"] == 256
    assert t["alexnet"]["aliases"]["conv5"] == "features.10" and mods["alexnet"]["features.10"] == 256
    assert mods["efficientnet_lite0"][t["efficientnet_lite0"]["aliases"]["head"]] == 1280


if __name__ == "__main__":
    write_table()
    print(f"wrote {TABLE}", file=sys.stderr)
