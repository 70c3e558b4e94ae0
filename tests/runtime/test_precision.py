"""The nets' precision: resolving ``auto`` per device, every registry net in every precision on
the CPU, fp32 where the objective reads, non-finite gradients named by step, fp16 loss scaling,
and the resolved precision in the stage store and build.lock."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from tests.support.build_fixtures import output_files, write_tiny
from tests.support.factories import make_plan
from penspec.compiler.plan import NetPlan
from penspec.runtime.build import BuildOptions, build
from penspec.runtime.checkpoint import StageStore
from penspec.runtime.nets import NETS, load_net
from penspec.runtime.objectives import build_objective
from penspec.runtime.precision import (
    CHANNELS_LAST,
    FP32,
    Numerics,
    bf16_support,
    cpu_bf16_from_cpuinfo,
    expected_identity,
    numerics_for,
    numerics_without_torch,
    plan_precision,
    resolve,
)
from penspec.runtime.stages import MAX_SKIPPED, Engine, StageRun, initial_strokes
from penspec.spec.errors import MissingResourceError

CPU = torch.device("cpu")
# a module of each registry net and the smallest input side that still gives it a feature map
# (fp16 convolutions on a CPU without native fp16 are slow: the inputs stay tiny)
SHALLOW = {
    "vgg16": ("features.14", 16),
    "vgg19": ("features.16", 16),
    "resnet18": ("layer2", 32),
    "resnet50": ("layer1", 32),
    "alexnet": ("features.10", 64),
    "efficientnet_lite0": ("_blocks.3", 32),
}


def test_auto_picks_bf16_only_where_the_device_has_it():
    assert resolve("auto", "cpu", ("vgg16",), "AVX512-BF16").precision == "bf16"
    assert resolve("auto", "cpu", ("vgg16",), "AMX").reason == "auto: the CPU has AMX"
    assert resolve("auto", "cpu", ("vgg16",), None).precision == "fp32"
    assert resolve("auto", "cuda", ("vgg16",), "bf16 support", "GPU X").precision == "bf16"
    assert resolve("auto", "cuda", ("vgg16",), None, "GPU X").describe().startswith("fp32 (auto: GPU X has no bf16 support)")


@pytest.mark.parametrize("choice", ["fp32", "bf16", "fp16"])
def test_a_named_precision_is_taken_as_written(choice):
    assert resolve(choice, "cpu", ("resnet18",), None).precision == choice


def test_bf16_on_a_gpu_without_it_and_unknown_names_are_errors():
    with pytest.raises(MissingResourceError, match="does not support bf16"):
        resolve("bf16", "cuda", ("vgg16",), None, "Old GPU")
    with pytest.raises(MissingResourceError, match="unknown precision 'fp8'"):
        resolve("fp8", "cpu", ("vgg16",), None)
    with pytest.raises(ValueError):
        Numerics("auto")


def test_memory_formats_come_from_the_table():
    nets = tuple(NETS)
    for (device_type, precision), last in CHANNELS_LAST.items():
        numerics = resolve(precision, device_type, nets, "x")
        assert {n for n, fmt in numerics.memory_formats if fmt == "channels_last"} == set(last)
        assert numerics.identity() == {"precision": precision, "memory_format": dict(numerics.memory_formats)}


@pytest.mark.parametrize("flags, expected", [
    ("fpu avx512f avx512_bf16 amx_tile amx_bf16", (True, "AMX")),
    ("fpu avx512f avx512_bf16", (True, "AVX512-BF16")),
    ("fpu avx2 fma", (True, None)),
])
def test_cpu_flags_without_torch(tmp_path, flags, expected):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: {flags}\n")
    assert cpu_bf16_from_cpuinfo(str(path)) == expected
    assert cpu_bf16_from_cpuinfo(str(tmp_path / "absent")) == (False, None)


def test_the_kernel_flags_agree_with_torch_on_this_machine():
    known, support = cpu_bf16_from_cpuinfo()
    if not known:
        pytest.skip("no /proc/cpuinfo here")
    assert support == bf16_support(CPU)
    plan = make_plan()
    assert numerics_without_torch(plan, "cpu") == numerics_for(plan, CPU)
    assert expected_identity(plan, "cpu", "cpu") == numerics_for(plan, CPU).identity()


def test_the_plan_carries_the_choice():
    plan = make_plan()
    assert plan_precision(plan) == "auto"
    nets = tuple(dataclasses.replace(n, precision="fp16") for n in plan.objective.nets)
    fp16 = dataclasses.replace(plan, objective=dataclasses.replace(plan.objective, nets=nets))
    assert plan_precision(fp16) == "fp16"
    assert numerics_without_torch(fp16, "cuda").precision == "fp16"
    assert numerics_without_torch(plan, "cuda") is None  # auto on a GPU: only torch can tell


@pytest.fixture(scope="module")
def registry_nets():
    """Every registry net, random weights. The nets are truncated, so their classifiers never
    run: drawing VGG's 100 M classifier weights (most of a build's load time) is skipped here."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.nn.Linear, "reset_parameters", lambda self: None)
        patch.setattr(torch.nn.init, "normal_", lambda tensor, *a, **k: tensor)
        return {name: load_net(NetPlan(name=name, weights="random", leaky_relu=None, modules=(mod,), deepest=mod), ".", seed=0)
                for name, (mod, _) in SHALLOW.items()}


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
@pytest.mark.parametrize("name", sorted(SHALLOW))
def test_every_net_runs_in_every_precision_on_the_cpu(registry_nets, name, precision):
    """Forward under autocast and backward to the input, in both memory formats: fp32
    activations for the objective, a finite gradient, and the values close to fp32's."""
    net = registry_nets[name]
    module, side = SHALLOW[name]
    images = torch.rand(1, 3, side, side, generator=torch.Generator().manual_seed(1))
    plan = make_plan()
    reference = Engine.loaded(plan, {name: net}, None, CPU).features(images).of(name, module)
    for fmt in ("contiguous", "channels_last"):
        numerics = Numerics(precision, ((name, fmt),))
        engine = Engine.loaded(plan, {name: net}, None, CPU, numerics=numerics)
        x = images.clone().requires_grad_(True)
        act = engine.features(x).of(name, module)
        assert act.dtype == torch.float32
        act.mean().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
        scale = reference.abs().max()
        tolerance = {"fp32": 1e-4, "bf16": 0.1, "fp16": 0.02}[precision]
        assert (act.detach() - reference).abs().max() <= tolerance * scale, (name, precision, fmt)
    net.to(memory_format=torch.contiguous_format)


@pytest.fixture(scope="module")
def tiny_engine():
    plan = make_plan(canvas=64, strokes=12)
    nets = {n.name: load_net(n, ".", seed=plan.seed) for n in plan.objective.nets}
    return Engine.loaded(plan, nets, build_objective(plan.objective, nets=nets), CPU)


class _NanGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return torch.full_like(grad, float("nan"))


class _PoisonNet(torch.nn.Module):
    """A net whose activation is fine but whose gradient is NaN."""

    name = "resnet18"

    def forward(self, images):
        return {"layer1": _NanGradient.apply(images).repeat(1, 22, 1, 1)[:, :64]}


def poisoned(engine: Engine, precision: str) -> Engine:
    return Engine.loaded(engine.plan, {"resnet18": _PoisonNet()}, engine.objective, engine.device, numerics=Numerics(precision))


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_non_finite_gradient_fails_with_its_step(tiny_engine, precision):
    run = StageRun(poisoned(tiny_engine, precision), tiny_engine.plan.stages[0], initial_strokes(tiny_engine.plan))
    with pytest.raises(FloatingPointError, match="not finite at step 0") as info:
        run.step()
    assert ("bf16" in str(info.value)) == (precision == "bf16")


def test_fp16_skips_non_finite_steps_then_fails_with_the_step(tiny_engine):
    stage = dataclasses.replace(tiny_engine.plan.stages[0], steps=MAX_SKIPPED + 5)
    run = StageRun(poisoned(tiny_engine, "fp16"), stage, initial_strokes(tiny_engine.plan))
    before = run.points().detach().clone()
    for _ in range(MAX_SKIPPED):
        run.step()
    assert run.skipped == list(range(MAX_SKIPPED)) and torch.equal(run.points().detach(), before)
    with pytest.raises(FloatingPointError, match=f"not finite at step {MAX_SKIPPED} after {MAX_SKIPPED + 1} loss-scaled fp16"):
        run.step()


def test_fp16_loss_scaling_steps_and_resumes_exactly(tiny_engine):
    engine = Engine.loaded(tiny_engine.plan, tiny_engine.nets, tiny_engine.objective, CPU, numerics=Numerics("fp16"))
    stage = tiny_engine.plan.stages[0]
    straight = StageRun(engine, stage, initial_strokes(engine.plan))
    for _ in range(3):
        straight.step()
    resumed = StageRun(engine, stage, initial_strokes(engine.plan))
    resumed.step()
    state = resumed.state_dict()
    assert "scaler" in state
    again = StageRun(engine, stage, initial_strokes(engine.plan))
    again.load_state_dict(state)
    again.step()
    again.step()
    assert torch.equal(again.points(), straight.points())
    assert not torch.equal(straight.points(), initial_strokes(engine.plan).points)


def test_a_stage_stored_in_one_precision_is_not_another_precisions(tmp_path, tiny_engine):
    plan = tiny_engine.plan
    strokes = initial_strokes(plan)
    bf16 = Numerics("bf16", (("resnet18", "contiguous"),)).identity()
    StageStore(tmp_path, plan.stages[0], "cpu", "torch", None, bf16).save_result(strokes, 1.0)
    assert StageStore(tmp_path, plan.stages[0], "cpu", "torch", None, bf16).complete()
    assert not StageStore(tmp_path, plan.stages[0], "cpu", "torch", None, FP32.identity()).complete()
    meta = json.loads((StageStore(tmp_path, plan.stages[0], "cpu", "torch").meta_path).read_text())
    assert meta["precision"] == "bf16" and meta["memory_format"] == {"resnet18": "contiguous"}


@pytest.fixture(scope="module")
def auto_builds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("precision")
    spec = write_tiny(folder, steps=2, finetune=2)
    return spec, [build(spec, BuildOptions(out_dir=str(folder / name), device="cpu")) for name in ("a", "b")]


def test_two_auto_builds_are_byte_identical_and_record_the_precision(auto_builds):
    spec, (a, b) = auto_builds
    assert output_files(a.out_dir) == output_files(b.out_dir)
    expected = numerics_for(a.plan, CPU)
    lock = json.loads((a.out_dir / "build.lock").read_text())
    assert (lock["precision"], lock["memory_format"]) == (expected.precision, {"resnet18": expected.memory_format("resnet18")})
    assert json.loads((a.out_dir / "plan.json").read_text())["objective"]["nets"][0]["precision"] == "auto"
    assert build(spec, BuildOptions(out_dir=str(a.out_dir), device="cpu")).up_to_date
    lock["precision"] = "fp16"
    (a.out_dir / "build.lock").write_text(json.dumps(lock))
    assert not build(spec, BuildOptions(out_dir=str(a.out_dir), device="cpu")).up_to_date


def test_the_precision_option_overrides_the_spec(auto_builds, tmp_path):
    spec, _ = auto_builds
    result = build(spec, BuildOptions(out_dir=str(tmp_path / "fp32"), device="cpu", precision="fp32"))
    assert result.plan.objective.nets[0].precision == "fp32"
    lock = json.loads((result.out_dir / "build.lock").read_text())
    assert lock["precision"] == "fp32"
    svg = (result.out_dir / "tiny.svg").read_text()
    assert "--set network.precision=fp32" in svg  # the command that rebuilds it


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
@pytest.mark.parametrize("name", sorted(SHALLOW))
def test_every_net_runs_in_every_precision_on_cuda(registry_nets, name, precision):
    cuda = torch.device("cuda")
    if precision == "bf16" and not bf16_support(cuda):
        pytest.skip("this GPU has no bf16")
    module, side = SHALLOW[name]
    net = registry_nets[name].to(cuda)
    images = torch.rand(2, 3, max(side, 64), max(side, 64), generator=torch.Generator().manual_seed(1)).to(cuda)
    plan = make_plan()
    reference = Engine.loaded(plan, {name: net}, None, cuda).features(images).of(name, module)
    numerics = resolve(precision, "cuda", (name,), bf16_support(cuda))
    numerics.prepare(net)
    x = images.clone().requires_grad_(True)
    act = Engine.loaded(plan, {name: net}, None, cuda, numerics=numerics).features(x).of(name, module)
    assert act.dtype == torch.float32
    act.mean().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    tolerance = {"fp32": 1e-3, "bf16": 0.1, "fp16": 0.02}[precision]  # fp32 on CUDA may use TF32
    assert (act.detach() - reference).abs().max() <= tolerance * reference.abs().max()
    net.to("cpu", memory_format=torch.contiguous_format)


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("precision", ["auto", "fp16"])
def test_cuda_builds_repeat_per_precision(tmp_path, precision):
    """Two builds on the GPU in one precision give the same files; the lock says which."""
    spec = write_tiny(tmp_path, steps=3, finetune=3)
    a, b = (build(spec, BuildOptions(out_dir=str(tmp_path / n), device="cuda", precision=precision)) for n in ("a", "b"))
    assert output_files(a.out_dir) == output_files(b.out_dir)
    lock = json.loads((a.out_dir / "build.lock").read_text())
    assert lock["device_type"] == "cuda"
    assert lock["precision"] == numerics_for(a.plan, torch.device("cuda")).precision


def test_doctor_says_what_auto_means_here():
    from penspec.runtime import doctor

    finding = next(f for f in doctor.check_torch() if f.part == "precision")
    support = bf16_support(CPU)
    assert finding.ok and finding.detail.startswith("auto means cpu: " + (f"bf16 ({support})" if support else "fp32"))
