r"""Training speed, side by side in one process: ``python -m snnlib bench [--device cuda] [--threads N]``.

Every contender trains the same network shape, ``40 → 256 → 256 → 10`` on ``T = 40`` steps and batches
of ``B = 128`` (random currents in [0, 1), random labels), and one *step* is a forward pass, the
cross-entropy of the logits, the backward pass and one Adam update. Reported: the median over ``repeats``
steps (after two warm-up steps; the contenders take turns, so a noisy machine slows them alike) in
milliseconds, and its ratio to the ANN floor::

    ANN floor            the same three linears on all T·B rows, ReLU, logits averaged over time (no time loop)
    snnlib LIF / RLIF    build_snn(..., "LIF" / "RLIF"), the fused time loop (snnlib.model.fused; on a CPU its
                         elementwise work in the compiled kernels of snnlib.model.fused_cpu)
    snnlib LIF (hooks)   the same network stepping through the node's hooks (backend="torch")
    SpikingJelly LIFNode neuron.LIFNode(step_mode="m") after each linear (its PyTorch path, the only one in 2.0)
    snnTorch Leaky       snntorch.Leaky after each linear, stepped in a Python loop
    snnTorch RLeaky      snntorch.RLeaky (all-to-all recurrence) after each linear, stepped likewise
    W_rec products alone the matrix products of RLIF's two recurrent layers and nothing else (below)

Arithmetic per row of ``T·B``: the ANN does 40·256 + 256·256 + 256·10 multiply-adds forward and about
twice that backward (~2.2·10⁵ in all), snnlib LIF about the same (its readout pools over time first);
RLIF adds, per recurrent layer, ``W_rec S[t-1]`` forward, ``W_recᵀ gH`` backward and ``gW_rec``, three
256·256 products (~3.9·10⁵ more), so RLIF is ~2.7× the floor's arithmetic before any time loop. Two of
those products cannot be batched over time (step ``t`` needs step ``t-1``): they run as ``T`` small
``[B, n] × [n, n]`` products. The *RLIF floor* printed under the table is ``(snnlib LIF + W_rec products
alone) / ANN floor``: what RLIF would cost if its recurrence added only those products, run on their own
(the rest of the recurrent loop, its elementwise work and the Python that steps it, is what RLIF spends
above it). Every operation is dense, so no time here depends on how often the neurons fire (RLIF at
firing rates 0.02, 0.23 and 0.35 in its first layer: 37.5, 37.7 and 37.9 ms, one run, 2 threads).

Ensembles (:mod:`snnlib.model.ensemble`) of ``M = 1, 4, 10, 32`` snnlib LIF networks train as one stacked
model; their throughput is ``M / step time`` in runs per second (a run's training step per second), and
its ratio to the ensemble of one. They are timed twice: at the shape above, and at the size the ``quick``
profile trains (:data:`STUDY_SHAPE`: one hidden layer of 64, ``T = 10``, ``B = 64``).

What stacking can and cannot buy: it removes per-operation overhead (``M`` small kernels become one), not
arithmetic -- an ensemble of ``M`` still does ``M`` runs' matrix products. The *arithmetic bound* printed
with the ensembles is ``(one LIF step) / (ANN floor step)``: the speed-up an ensemble would reach if
everything but the ANN's matrix products and Adam cost nothing. Where one run is already bound by its
matrix products (the benchmark shape on a CPU) the bound is near 1; on small networks, or on a GPU where
one run leaves the device idle, overhead dominates and stacking pays.
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import contextmanager

import pandas as pd
import torch
from torch import nn

from snnlib.checks import check_int

SHAPE = dict(n_inputs=40, hidden=256, n_outputs=10, steps=40, batch=128)
#: the size of a ``quick`` network: delayed-recall's 21 input channels, one hidden layer of 64, T = 10, B = 64
STUDY_SHAPE = dict(n_inputs=21, hidden=64, n_outputs=10, steps=10, batch=64, layers=1)
ENSEMBLE_SIZES = (1, 4, 10, 32)


@contextmanager
def _threads(n: int):
    saved = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# --- the contenders: each a function () -> logits [B, C] (or [M, B, C]) and its parameters -----------------
class _ANN(nn.Module):
    def __init__(self, n_in, hidden, n_out):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, n_out))

    def forward(self, x):
        return self.net(x).mean(0)


class _SpikingJelly(nn.Module):
    def __init__(self, n_in, hidden, n_out):
        super().__init__()
        from spikingjelly.activation_based import neuron, surrogate

        node = lambda: neuron.LIFNode(tau=2.0, step_mode="m", surrogate_function=surrogate.ATan())
        self.net = nn.Sequential(nn.Linear(n_in, hidden), node(), nn.Linear(hidden, hidden), node(),
                                 nn.Linear(hidden, n_out))

    def forward(self, x):
        from spikingjelly.activation_based import functional

        functional.reset_net(self)
        return self.net(x).mean(0)


class _SnnTorch(nn.Module):
    def __init__(self, n_in, hidden, n_out, recurrent: bool):
        super().__init__()
        import snntorch

        self.fc = nn.ModuleList([nn.Linear(n_in, hidden), nn.Linear(hidden, hidden)])
        make = (lambda: snntorch.RLeaky(beta=0.5, linear_features=hidden)) if recurrent \
            else (lambda: snntorch.Leaky(beta=0.5))
        self.lif = nn.ModuleList([make(), make()])
        self.out = nn.Linear(hidden, n_out)
        self.recurrent = recurrent

    def forward(self, x):
        h = x
        for fc, lif in zip(self.fc, self.lif):
            current, spikes = fc(h), []
            if self.recurrent:
                spk, mem = lif.init_rleaky()
                for c in current:
                    spk, mem = lif(c, spk, mem)
                    spikes.append(spk)
            else:
                mem = lif.init_leaky()
                for c in current:
                    spk, mem = lif(c, mem)
                    spikes.append(spk)
            h = torch.stack(spikes)
        return self.out(h).mean(0)


def _snnlib(variant: str, backend: str = "fused", shape: dict | None = None):
    from snnlib.model.models import build_snn

    s = shape or SHAPE
    return build_snn(s["n_inputs"], [s["hidden"]] * s.get("layers", 2), s["n_outputs"], variant, backend=backend)


def _stepper(model: nn.Module, forward, y: torch.Tensor):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        logits = forward()
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                           reduction="none").view(-1, y.shape[-1]).mean(1).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return step


def _contenders(device: torch.device, gen: torch.Generator) -> dict:
    s = SHAPE
    x = torch.rand(s["steps"], s["batch"], s["n_inputs"], generator=gen).to(device)
    y = torch.randint(0, s["n_outputs"], (1, s["batch"]), generator=gen).to(device)
    models = {
        "ANN floor": _ANN(s["n_inputs"], s["hidden"], s["n_outputs"]),
        "snnlib LIF": _snnlib("LIF"),
        "snnlib RLIF": _snnlib("RLIF"),
        "snnlib LIF (hooks)": _snnlib("LIF", backend="torch"),
        "SpikingJelly LIFNode": _SpikingJelly(s["n_inputs"], s["hidden"], s["n_outputs"]),
        "snnTorch Leaky": _SnnTorch(s["n_inputs"], s["hidden"], s["n_outputs"], recurrent=False),
        "snnTorch RLeaky": _SnnTorch(s["n_inputs"], s["hidden"], s["n_outputs"], recurrent=True),
    }
    steps = {}
    for name, model in models.items():
        model.to(device).train()
        steps[name] = _stepper(model, lambda model=model: model(x), y)
    steps[RECURRENT_PRODUCTS] = _recurrent_products(device, gen)
    return steps


#: the row that times the recurrent layers' matrix products alone (module docstring: the RLIF floor)
RECURRENT_PRODUCTS = "W_rec products alone"


def _recurrent_products(device: torch.device, gen: torch.Generator):
    """The matrix products of RLIF's two recurrent layers and nothing else, as the fused loop runs them:
    per layer ``T - 1`` forward products ``S[t-1] W_recᵀ`` and ``T - 1`` backward ``gH[t+1] W_rec`` of
    ``[B, n] × [n, n]``, and ``gW_rec = Σ gH[t]ᵀ S[t-1]`` as one product. Their time does not depend on the
    values (dense products), so random spikes at a rate of 0.25 stand in for the network's."""
    s = SHAPE
    steps, batch, n = s["steps"], s["batch"], s["hidden"]
    w = torch.randn(n, n, generator=gen).to(device)
    spikes = (torch.rand(steps, batch, n, generator=gen) < 0.25).float().to(device)
    g_h = torch.randn(steps, batch, n, generator=gen).to(device)
    out = torch.empty(batch, n, device=device)

    def step():
        for _ in range(2):
            for t in range(1, steps):
                torch.mm(spikes[t - 1], w.t(), out=out)
            for t in range(steps - 2, -1, -1):
                torch.mm(g_h[t + 1], w, out=out)
            g_h[1:].reshape(-1, n).t() @ spikes[:-1].reshape(-1, n)
    return step


def _ensemble_steps(device: torch.device, gen: torch.Generator, sizes, shape: dict) -> dict:
    from snnlib.measure.train import seed_everything
    from snnlib.model.ensemble import EnsembleSNN

    s = shape
    steps = {}
    for m in sizes:
        members = []
        for seed in range(m):
            seed_everything(seed)
            members.append(_snnlib("LIF", shape=s))
        ensemble = EnsembleSNN.from_members(members).to(device).train()
        x = torch.rand(m, s["steps"], s["batch"], s["n_inputs"], generator=gen).to(device)
        y = torch.randint(0, s["n_outputs"], (m, s["batch"]), generator=gen).to(device)
        steps[m] = _stepper(ensemble, lambda e=ensemble, x=x: e.forward_members(x, slice(None)), y)
    return steps


def _time(steps: dict, repeats: int, device: torch.device) -> dict:
    """Median milliseconds per step of each entry; the entries take turns, after two warm-up steps each."""
    for step in steps.values():
        step(), step()
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            _sync(device)
            start = time.perf_counter()
            step()
            _sync(device)
            times[name].append(1e3 * (time.perf_counter() - start))
    return {name: statistics.median(t) for name, t in times.items()}


def run_bench(device: str = "cpu", threads: int = 2, repeats: int = 9, ensemble_sizes=ENSEMBLE_SIZES) -> pd.DataFrame:
    """Milliseconds per training step of every contender and the ensembles' throughput (module docstring).

    Returns a table with columns ``kind`` (``"single"``, ``"ensemble"`` at :data:`SHAPE`,
    ``"ensemble-study"`` at :data:`STUDY_SHAPE`), ``name``, ``members``, ``ms_per_step`` (median),
    ``ratio_to_ann`` (single networks), ``runs_per_s`` and ``speedup`` (ensembles: runs per second, and
    that over the ensemble of one's); ``attrs["arithmetic_bound"]`` is one LIF step over the ANN floor's.
    """
    from snnlib.measure.train import keep_freed_memory, resolve_device

    keep_freed_memory()  # as in training (snnlib.measure.train.fit_members)
    threads, repeats = check_int("threads", threads), check_int("repeats", repeats)
    sizes = [check_int("ensemble size", m) for m in ensemble_sizes]
    dev = resolve_device(device)
    gen = torch.Generator().manual_seed(0)
    with _threads(threads):
        torch.manual_seed(0)
        single = _time(_contenders(dev, gen), repeats, dev)
        timed = {kind: _time(_ensemble_steps(dev, gen, sizes, shape), repeats, dev) if sizes else {}
                 for kind, shape in (("ensemble", SHAPE), ("ensemble-study", STUDY_SHAPE))}
    floor = single["ANN floor"]
    rows = [dict(kind="single", name=name, members=1, ms_per_step=ms, ratio_to_ann=ms / floor,
                 runs_per_s=1e3 / ms, speedup=None) for name, ms in single.items()]
    for kind, ensembles in timed.items():
        base = 1e3 / ensembles[min(ensembles)] * min(ensembles) if ensembles else None
        for m, ms in ensembles.items():
            rate = m * 1e3 / ms
            rows.append(dict(kind=kind, name=f"snnlib LIF x{m}", members=m, ms_per_step=ms, ratio_to_ann=None,
                             runs_per_s=rate, speedup=rate / base))
    table = pd.DataFrame(rows)
    table.attrs.update(device=str(dev), threads=threads, repeats=repeats, torch=torch.__version__,
                       arithmetic_bound=single["snnlib LIF"] / floor,
                       recurrent_floor=(single["snnlib LIF"] + single[RECURRENT_PRODUCTS]) / floor,
                       study_shape=dict(STUDY_SHAPE), **SHAPE)
    return table


def format_bench(df: pd.DataFrame) -> str:
    """The table as text: single networks (ms per step, ratio to the ANN floor), then the ensembles
    (ms per step, runs per second, speedup over one run)."""
    a = df.attrs
    head = (f"one training step (forward, loss, backward, Adam), {a.get('n_inputs')}→{a.get('hidden')}→"
            f"{a.get('hidden')}→{a.get('n_outputs')}, T={a.get('steps')}, B={a.get('batch')}; device "
            f"{a.get('device')}, {a.get('threads')} threads, median of {a.get('repeats')}, torch {a.get('torch')}")
    lines = [head, "", f"{'network':<24}{'ms/step':>10}{'× ANN':>9}"]
    for row in df[df.kind == "single"].itertuples():
        lines.append(f"{row.name:<24}{row.ms_per_step:>10.1f}{row.ratio_to_ann:>9.2f}")
    if "recurrent_floor" in a:
        lines.append(f"RLIF floor {a['recurrent_floor']:.2f}× ANN: snnlib LIF + {RECURRENT_PRODUCTS} (RLIF if "
                     "its recurrence cost nothing but those products)")
    study = a.get("study_shape") or {}
    titles = {"ensemble": f"ensembles at this shape (arithmetic bound {a.get('arithmetic_bound', float('nan')):.2f}×: "
                          "one LIF step / ANN floor step)",
              "ensemble-study": f"ensembles at the quick profile's size, {study.get('n_inputs')}→{study.get('hidden')}→"
                                f"{study.get('n_outputs')}, T={study.get('steps')}, B={study.get('batch')}"}
    for kind, title in titles.items():
        ens = df[df.kind == kind]
        if len(ens):
            lines += ["", title, f"{'ensemble':<24}{'ms/step':>10}{'runs/s':>9}{'× one run':>11}"]
            for row in ens.itertuples():
                lines.append(f"{row.name:<24}{row.ms_per_step:>10.1f}{row.runs_per_s:>9.1f}{row.speedup:>11.2f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    """``snnlib bench [--device DEVICE] [--threads N] [--repeats N]``: print :func:`format_bench`."""
    parser = argparse.ArgumentParser(prog="snnlib bench", description="Training speed of snnlib's networks "
                                     "against an ANN floor, SpikingJelly and snnTorch, and ensemble throughput.")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default: cpu)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default: 2)")
    parser.add_argument("--repeats", type=int, default=9, help="timed steps per network (default: 9)")
    args = parser.parse_args(argv)
    try:
        table = run_bench(device=args.device, threads=args.threads, repeats=args.repeats)
    except ValueError as error:
        parser.error(str(error))
    print(format_bench(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
