"""Measure each registry net's activation memory kept for backward, per input pixel, up to each
module of its layer table, and write compiler/activations.json (the estimate pass reads it).

Run once when a net or a layer table changes: ``python bench/activations.py``. Random weights,
frozen as the runtime freezes them (gradients flow to the input only), batch 1, at fp32. A
tensor autograd saves is counted once (by storage) at the module whose output it precedes; the
module's own output counts too; the weights it saves do not (they are the loaded net's memory) (it is what the next layer reads, and the objective's features
are kept until the loss). Bytes scale with the input's pixel count for these conv nets (checked
at two sizes: the script prints the worst relative difference).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from penspec.compiler.layers import layer_tables  # noqa: E402
from penspec.runtime.nets import NETS, replace_activations  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "compiler" / "activations.json"
SIZES = (224, 160)


def bytes_up_to_each(name: str, side: int) -> dict[str, int]:
    table = layer_tables()[name]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = NETS[name].build()
    replace_activations(model, None)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    # the weights autograd saves are the net's own storage, loaded anyway: not counted
    seen: set[tuple[int, int]] = {(t.untyped_storage().data_ptr(), t.untyped_storage().nbytes()) for t in (*model.parameters(), *model.buffers())}
    total = [0]
    marks: dict[str, int] = {}

    def pack(t: torch.Tensor):
        key = (t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
        if key not in seen:
            seen.add(key)
            total[0] += t.untyped_storage().nbytes()
        return t

    modules = dict(model.named_modules())
    handles = []
    for path in table.modules:
        def hook(module, args, output, path=path):
            if path not in marks:
                out = output if isinstance(output, torch.Tensor) else output[0]
                marks[path] = total[0] + out.numel() * out.element_size()
        handles.append(modules[path].register_forward_hook(hook))
    x = torch.rand(1, 3, side, side, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x)
    for h in handles:
        h.remove()
    return marks


def main() -> None:
    nets = {}
    for name in sorted(NETS):
        per = []
        for side in SIZES:
            marks = bytes_up_to_each(name, side)
            per.append({k: v / (side * side) for k, v in marks.items()})
        worst = max(abs(per[0][k] - per[1][k]) / per[0][k] for k in per[0])
        print(f"{name}: {len(per[0])} modules, deepest {max(per[0].values()):.0f} B/px; {SIZES[0]} vs {SIZES[1]} px: worst difference {worst:.1%}")
        nets[name] = {k: round(v, 2) for k, v in per[0].items()}
    data = {
        "about": "fp32 bytes autograd keeps for backward (and the module's output), per input pixel, from the "
        "input up to and including each module, batch 1, weights frozen. Measured by bench/activations.py "
        f"at {SIZES[0]}x{SIZES[0]} px; the estimate pass scales it by the views' pixels and the nets' precision.",
        "nets": nets,
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
