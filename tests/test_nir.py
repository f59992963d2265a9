"""NIR export: the graph means what snnlib computes, spike for spike.

Two independent readers of each exported file: snnTorch's importer (``snntorch.import_nir``, for the
LIF graphs it supports) and :func:`simulate`, a forward-Euler integration of NIR's own node equations
written here from NIR's definitions (for every graph, IF and the LI readout included).
"""

import contextlib
import io
from types import SimpleNamespace

import nir
import numpy as np
import pytest
import torch
from torch import nn

from snnlib import build_snn
from snnlib.model import nir_export

T, B, N_IN, N_OUT = 25, 6, 5, 3


# --- a reference reader: NIR's equations, one forward-Euler step of dt per time step --------------------

def _flatten(graph: nir.NIRGraph, prefix: str = ""):
    """Nodes and edges with every subgraph inlined (``sub/inner``): an edge into a subgraph enters its
    Input node, an edge out of it leaves its Output node."""
    nodes, edges = {}, []
    for name, node in graph.nodes.items():
        if isinstance(node, nir.NIRGraph):
            inner_nodes, inner_edges = _flatten(node, f"{prefix}{name}/")
            nodes.update(inner_nodes)
            edges += inner_edges
        else:
            nodes[prefix + name] = node

    def end(name, side):
        node = graph.nodes[name]
        if isinstance(node, nir.NIRGraph):
            kind = nir.Input if side == "in" else nir.Output
            return f"{prefix}{name}/" + next(k for k, n in node.nodes.items() if isinstance(n, kind))
        return prefix + name

    edges += [(end(a, "out"), end(b, "in")) for a, b in graph.edges]
    return nodes, edges


def _order(edges, start: str):
    """Evaluation order (depth-first from ``start``) and the delayed edges, those closing a cycle: their
    source's output of the previous step feeds the target (0 at the first step)."""
    order, state, delayed = [], {}, set()

    def visit(name):
        state[name] = "open"
        for a, b in edges:
            if a == name:
                if state.get(b) == "open":
                    delayed.add((a, b))
                elif b not in state:
                    visit(b)
        state[name] = "done"
        order.append(name)

    visit(start)
    return order[::-1], delayed


def simulate(graph: nir.NIRGraph, x: torch.Tensor, dt: float):
    """Outputs of every node ``{name: [T, B, n]}`` for input ``x [T, B, n_in]``, in float64."""
    nodes, edges = _flatten(graph)
    graph_input = next(k for k, node in nodes.items() if isinstance(node, nir.Input) and "/" not in k)
    order, delayed = _order(edges, graph_input)
    out = {k: [] for k in order}
    v = {}
    for t in range(x.shape[0]):
        now = {}
        for name in order:
            node = nodes[name]
            if name == graph_input:
                i = x[t].double()
            else:  # the sum of the inputs; a delayed one is its source's previous output (nothing at t = 0)
                i = sum((out[a][t - 1] if t else 0.0) if (a, b) in delayed else now[a] for a, b in edges if b == name)
            if isinstance(node, (nir.Input, nir.Output)):
                y = i
            elif isinstance(node, nir.Affine):
                y = i @ torch.from_numpy(node.weight).double().T + torch.from_numpy(node.bias).double()
            elif isinstance(node, nir.Linear):
                y = i @ torch.from_numpy(node.weight).double().T
            else:
                p = {k: torch.from_numpy(np.asarray(getattr(node, k), dtype=np.float64))
                     for k in ("tau", "r", "v_leak", "v_threshold", "v_reset") if hasattr(node, k)}
                u = v.get(name, torch.zeros_like(i))
                if isinstance(node, (nir.LIF, nir.LI)):  # tau v' = (v_leak - v) + r I
                    u = u + dt / p["tau"] * (p["v_leak"] - u + p["r"] * i)
                elif isinstance(node, (nir.IF, nir.I)):  # v' = r I
                    u = u + dt * p["r"] * i
                else:
                    raise AssertionError(f"no reference for {type(node).__name__}")
                if isinstance(node, (nir.LIF, nir.IF)):  # z = [v > v_threshold]; then v = v_reset where z
                    y = (u > p["v_threshold"]).double()
                    u = torch.where(y > 0, p["v_reset"], u)
                else:
                    y = u
                v[name] = u
            now[name] = y
        for name in order:
            out[name].append(now[name])
    return {k: torch.stack(ys) for k, ys in out.items()}


# --- fixtures -----------------------------------------------------------------------------------------

def spiking_net(variant: str, hidden=(8,), decay: float = 0.8, seed: int = 0):
    """A small network whose weights make it spike often but not always."""
    torch.manual_seed(seed)
    model = build_snn(N_IN, list(hidden), N_OUT, variant, decay=decay)
    with torch.no_grad():
        for layer in model.layers:
            layer.fc.weight.mul_(3.0)
            layer.fc.bias.add_(0.2)
    return model


def written_and_read(model, tmp_path, **kwargs) -> nir.NIRGraph:
    """The graph of ``model`` through a file: ``nir.write`` then ``nir.read``."""
    file = tmp_path / "net.nir"
    nir_export.write_nir(model, file, **kwargs)
    return nir.read(str(file))


def snntorch_spikes(graph: nir.NIRGraph, x: torch.Tensor, n_layers: int, recurrent: bool):
    """Hidden spikes of the graph imported by snnTorch, stepped one time step at a time."""
    from snntorch.import_nir import import_from_nir

    with contextlib.redirect_stdout(io.StringIO()):  # the importer prints its progress
        net = import_from_nir(graph)
    spikes = [[] for _ in range(n_layers)]
    for i in range(n_layers):
        module = net.get_submodule(f"layer{i}_rnn.lif" if recurrent else f"layer{i}_lif")
        module.register_forward_hook(lambda m, args, out, i=i: spikes[i].append(out))
    state, outputs = None, []
    with torch.no_grad():
        for t in range(x.shape[0]):
            y, state = net(x[t], state)
            outputs.append(y)
    return [torch.stack(s) for s in spikes], torch.stack(outputs)


@pytest.fixture
def x():
    return torch.rand(T, B, N_IN, generator=torch.Generator().manual_seed(1))


def lively(spikes: torch.Tensor) -> bool:
    rate = spikes.float().mean().item()
    return 0.05 < rate < 0.7


# --- snnTorch re-imports the LIF graphs spike for spike ----------------------------------------------

@pytest.mark.parametrize("variant, hidden", [("LIF", (8,)), ("LIF", (8, 6)), ("RLIF", (8,)), ("RLIF", (8, 6))])
def test_snntorch_reimports_lif_spike_for_spike(variant, hidden, x, tmp_path):
    model = spiking_net(variant, hidden)
    with torch.no_grad():
        model(x)
    graph = written_and_read(model, tmp_path, readout="affine")
    spikes, currents = snntorch_spikes(graph, x, len(hidden), recurrent=variant.startswith("R"))
    for ours, theirs in zip(model.last_spikes, spikes):
        assert lively(ours)
        assert torch.equal(ours, theirs)
    with torch.no_grad():
        assert torch.allclose(currents, model.readout.fc(model.last_spikes[-1]), atol=1e-6)


# --- NIR's own equations: every exportable variant, the LI readout and the window average ------------

@pytest.mark.parametrize("variant", ["LIF", "IF", "RLIF", "RIF"])
def test_nir_equations_give_snnlibs_spikes_and_readout(variant, x, tmp_path):
    model = spiking_net(variant, (8,), decay=0.7)
    window = slice(T - 10, T)
    with torch.no_grad():
        logits = model(x, window)
        membrane = model.readout.membrane(model.last_spikes[-1])
    graph = written_and_read(model, tmp_path)
    assert graph.metadata["dt"] == nir_export.DT
    out = simulate(graph, x, dt=float(graph.metadata["dt"]))
    recurrent = variant.startswith("R")
    neuron = "layer0.rnn/lif" if recurrent else "layer0.lif"
    node = graph.nodes["layer0.rnn"].nodes["lif"] if recurrent else graph.nodes["layer0.lif"]
    assert isinstance(node, nir.LIF if "LIF" in variant else nir.IF)
    assert lively(model.last_spikes[0])
    assert torch.equal(out[neuron].float(), model.last_spikes[0])
    assert torch.allclose(out["output"].float(), membrane, atol=1e-5)
    assert torch.allclose(out["output"][window].mean(0).float(), logits, atol=1e-5)  # what the logits are


def test_time_constants_by_hand():
    """λ = 0.5, dt = 1e-4: τ = dt/(1-λ) = 2e-4, r = τ/dt = 2; IF: r = 1/dt = 1e4; λ_o = 0.5 likewise."""
    fc = nn.Linear(2, 3)
    node = SimpleNamespace(neuron="LIF", reset_mode="hard", decay=0.5, v_threshold=1.5)
    model = SimpleNamespace(layers=[SimpleNamespace(fc=fc, rec=None, node=node)],
                            readout=SimpleNamespace(fc=nn.Linear(3, 2), decay=0.5))
    graph = nir_export.to_nir(model)
    lif, li = graph.nodes["layer0.lif"], graph.nodes["readout.li"]
    assert np.allclose(lif.tau, 2e-4) and np.allclose(lif.r, 2.0) and np.all(lif.v_threshold == 1.5)
    assert np.all(lif.v_leak == 0) and np.all(lif.v_reset == 0)
    assert np.allclose(li.tau, 2e-4) and np.allclose(li.r, 2.0)
    node.decay = 1.0
    model.readout.decay = 1.0
    graph = nir_export.to_nir(model)
    assert isinstance(graph.nodes["layer0.lif"], nir.IF) and np.allclose(graph.nodes["layer0.lif"].r, 1e4)
    assert isinstance(graph.nodes["readout.li"], nir.I) and np.allclose(graph.nodes["readout.li"].r, 1e4)
    graph = nir_export.to_nir(model, readout="affine")
    assert [b for a, b in graph.edges if a == "readout.fc"] == ["output"]


def test_an_input_gain_is_folded_into_the_weights_that_feed_the_neurons():
    fc, rec = nn.Linear(2, 3), nn.Linear(3, 3, bias=False)
    node = SimpleNamespace(neuron="LIF", reset_mode="hard", decay=0.5, v_threshold=1.0, input_gain=2.0)
    model = SimpleNamespace(layers=[SimpleNamespace(fc=fc, rec=rec, node=node)],
                            readout=SimpleNamespace(fc=nn.Linear(3, 2), decay=0.5))
    graph = nir_export.to_nir(model)
    assert np.allclose(graph.nodes["layer0.fc"].weight, 2 * fc.weight.detach().numpy())
    assert np.allclose(graph.nodes["layer0.fc"].bias, 2 * fc.bias.detach().numpy())
    assert np.allclose(graph.nodes["layer0.rnn"].nodes["rec"].weight, 2 * rec.weight.detach().numpy())
    assert np.allclose(graph.nodes["readout.fc"].weight, model.readout.fc.weight.detach().numpy())  # no gain
    node.input_gain = 1.0
    assert np.array_equal(nir_export.to_nir(model).nodes["layer0.fc"].weight, fc.weight.detach().numpy())


# --- what NIR cannot express ----------------------------------------------------------------------------

@pytest.mark.parametrize("variant, words", [
    ("LIF-soft", "soft reset (V = H - θS, subtract the threshold) is not expressible in NIR"),
    ("RIF-soft", "no reset by subtraction"),
    ("LIF-noreset", "no reset (V = H after a spike) is not expressible in NIR"),
    ("RLIF-noreset", "always reset the membrane to v_reset"),
])
def test_what_nir_lacks_is_named(variant, words, tmp_path):
    file = tmp_path / "net.nir"
    with pytest.raises(ValueError) as error:
        nir_export.write_nir(build_snn(N_IN, [8], N_OUT, variant), file)
    assert words in str(error.value) and "layer 0" in str(error.value)
    assert not file.exists()


def test_other_neuron_models_and_bad_arguments_are_refused():
    model = build_snn(N_IN, [8], N_OUT, "LIF")
    with pytest.raises(ValueError, match="readout must be one of li, affine, got 'lif'"):
        nir_export.to_nir(model, readout="lif")
    with pytest.raises(ValueError, match="dt must be a number > 0"):
        nir_export.to_nir(model, dt=0)
    node = SimpleNamespace(neuron="ALIF", reset_mode="hard", decay=0.5, v_threshold=1.0)
    other = SimpleNamespace(layers=[SimpleNamespace(fc=nn.Linear(2, 3), rec=None, node=node)], readout=model.readout)
    with pytest.raises(ValueError, match="layer 0: neuron model 'ALIF' has no NIR node; only the LIF family"):
        nir_export.to_nir(other)


# --- the command line -------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:.*keeps no weights")  # the record is made by hand, without weights
def test_export_a_recorded_run_end_to_end(tmp_path, capsys):
    from snnlib import cli, trained_model
    from snnlib.study import records

    params = records.canonical(dict(experiment="t", task="delayed-recall", variant="RLIF", decay=0.8, hidden=[8],
                                    epochs=1, device="cpu", seed=0,
                                    task_params=dict(n_train=64, n_test=32, delay=2)))
    record = records.make(params, dict(test_accuracy=0.5), 0.1, "cpu")
    records.save(record)
    file = tmp_path / "run.nir"
    assert cli.main(["export", record["key"], "--format", "nir", str(file)]) == 0
    assert f"wrote {file}" in capsys.readouterr().err
    graph = nir.read(str(file))
    assert {"layer0.fc", "layer0.rnn", "readout.fc", "readout.li"} <= set(graph.nodes)
    assert "recall" in str(graph.metadata["readout_window"])
    task, model = trained_model(record["params"])  # the same run trained again: the same network
    assert np.array_equal(graph.nodes["layer0.fc"].weight, model.layers[0].fc.weight.detach().numpy())
    x = task.x_test[:, :4]
    with torch.no_grad():
        model(x)
    assert torch.equal(simulate(graph, x, nir_export.DT)["layer0.rnn/lif"].float(), model.last_spikes[0])


def test_export_refuses_what_nir_cannot_express_before_training(tmp_path, capsys, monkeypatch):
    import snnlib
    from snnlib import cli
    from snnlib.study import records

    monkeypatch.setattr(snnlib, "trained_model", lambda *a: pytest.fail("trained a network it cannot export"))
    params = records.canonical(dict(experiment="t", task="delayed-recall", variant="LIF-soft", hidden=[8], epochs=1,
                                    device="cpu", seed=0, task_params=dict(n_train=64, n_test=32, delay=2)))
    record = records.make(params, dict(test_accuracy=0.5), 0.1, "cpu")
    records.save(record)
    assert cli.main(["export", record["key"], "--format", "nir", str(tmp_path / "x.nir")]) == 2
    err = capsys.readouterr().err
    assert "variant LIF-soft" in err and "soft reset" in err and not (tmp_path / "x.nir").exists()
    assert cli.main(["export", "0" * 16, "--format", "nir", str(tmp_path / "x.nir")]) == 2
    assert "no record '0000000000000000'" in capsys.readouterr().err
