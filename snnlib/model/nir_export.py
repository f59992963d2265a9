r"""A trained network as a NIR graph (the Neuromorphic Intermediate Representation), for other tools.

NIR (PyPI ``nir``) describes a network as a graph of nodes with continuous-time dynamics; each tool
discretises them with its own time step ``dt``. One job here: :func:`to_nir` turns an
:class:`~snnlib.model.models.SNN` into a ``nir.NIRGraph``, :func:`write_nir` also writes it to a file
(HDF5, ``nir.write``). The time constants are written for ``dt`` (default :data:`DT` = 10⁻⁴ s, the step
snnTorch's importer assumes), so that one forward-Euler step of each node is one step of snnlib's.

**What is exported.** For each spiking layer ``i`` an ``nir.Affine`` ``layer{i}.fc`` (``W_in``, ``b``)
followed by the neurons; the readout's ``nir.Affine`` ``readout.fc``; then its leaky integrator:

- hard-reset LIF, ``λ < 1``: ``nir.LIF`` with :math:`\tau = dt/(1-\lambda)`, :math:`r = \tau/dt`,
  ``v_leak = 0``, ``v_reset = 0``, ``v_threshold = θ``. NIR's LIF is
  :math:`\tau \dot v = (v_{leak} - v) + r I`, fire when :math:`v > v_{threshold}`, then
  :math:`v \leftarrow v_{reset}`; one Euler step of ``dt`` is
  :math:`v[t] = (1 - dt/\tau)\, v[t-1] + (dt/\tau)\, r\, I[t] = \lambda\, v[t-1] + I[t]`, snnlib's charge
  :math:`H[t] = \lambda V[t-1] + I[t]`; the strict threshold and the reset to 0 are snnlib's hard reset.
- hard-reset IF, ``λ = 1``: ``nir.IF`` with :math:`r = 1/dt` (NIR's IF is :math:`\dot v = r I`, so one
  step adds :math:`dt\, r\, I[t] = I[t]`), ``v_threshold = θ``, ``v_reset = 0``.
- a recurrent layer: a subgraph ``layer{i}.rnn`` with nodes ``input -> lif -> output`` and the cycle
  ``lif -> rec -> lif`` (``rec`` an ``nir.Linear`` of ``W_rec``, no bias): the cycle carries the spikes of
  the previous step, :math:`I[t] = W_{in} x[t] + b + W_{rec} S[t-1]` -- the form snnTorch's own exporter
  writes for ``RLeaky``.
- the readout, with ``readout="li"`` (default): ``nir.LI`` ``readout.li`` with
  :math:`\tau = dt/(1-\lambda_o)`, :math:`r = \tau/dt`, ``v_leak = 0``, i.e.
  :math:`U[t] = \lambda_o U[t-1] + W h[t] + b` (``nir.I`` with :math:`r = 1/dt` when :math:`\lambda_o = 1`).
  The graph's output is the membrane ``U[t]`` at every step. With ``readout="affine"`` the graph ends at
  ``readout.fc``: its output is the readout's input current :math:`W h[t] + b`, which the reader must
  integrate with :math:`\lambda_o` (graph metadata ``readout_decay``) -- for tools without ``nir.LI``
  (snnTorch 1.0's importer has none).
- a node's ``input_gain`` g (a model whose neurons scale their input current, :math:`H = \lambda V + g I`),
  when present and not 1, is folded into the weights that feed it: ``g W_in``, ``g b`` and ``g W_rec``.

**What is not exported.** The logits are the readout membrane averaged over the task's readout window
(:class:`~snnlib.model.layers.LeakyReadout`); NIR has no time-window average, so the average is left to
the reader (the window, in words, is the graph's ``readout_window`` metadata when given). Nor are the
surrogate gradient (training only), the input encoding (the input at step ``t`` is the task's ``x[t]``,
spikes or currents, as snnlib feeds it) and ``dt`` itself (metadata ``dt``; NIR nodes carry none).

**What NIR cannot express** (a ``ValueError`` naming it): soft reset (``V = H - θS``; NIR's LIF and IF
reset *to* ``v_reset``, they cannot subtract), no reset (NIR's spiking neurons always reset), a layer
mixing leaky and non-leaky neurons, and neuron models other than the LIF family (``node.neuron`` not
``"LIF"`` or ``"IF"``; a node without ``neuron`` counts as ``"LIF"``).

snnTorch 1.0 re-imports the LIF graphs, feed-forward and recurrent, with ``readout="affine"``
(``snntorch.import_nir.import_from_nir``, which needs ``nirtorch``) spike for spike; its importer maps
``nir.IF`` to a ``Leaky`` with ``beta = 0.9`` and subtractive reset and requires ``r = 1``, so IF graphs
do not round-trip through snnTorch 1.0 (the graph follows NIR's definition; the tests check it by
integrating NIR's equations directly).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: the time step (seconds) the exported time constants are written for; snnTorch's NIR importer assumes 1e-4
DT = 1e-4
READOUTS = ("li", "affine")
#: the registered neuron models NIR can express: the LIF dynamics (``IF`` is LIF with λ = 1)
NEURONS = ("LIF", "IF")


def _per_neuron(value, n: int, what: str) -> np.ndarray:
    """``value`` (a float or a tensor of one value or ``n`` values) as a float64 array of ``n`` values."""
    array = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value, dtype=np.float64).reshape(-1)
    if array.size == 1:
        return np.full(n, float(array[0]))
    if array.size != n:
        raise ValueError(f"{what} has {array.size} values for a layer of {n} neurons")
    return array


def _weights(linear, gain: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """``(W, b)`` of an ``nn.Linear`` as numpy arrays, each output row scaled by ``gain`` when given."""
    weight = linear.weight.detach().cpu().numpy()
    bias = None if linear.bias is None else linear.bias.detach().cpu().numpy()
    if gain is not None:
        weight = (weight * gain[:, None]).astype(weight.dtype)
        bias = None if bias is None else (bias * gain).astype(bias.dtype)
    return weight, bias


def check_exportable(neuron: str, reset: str, where: str = "layer") -> None:
    """``ValueError`` naming what NIR lacks unless ``neuron`` is in :data:`NEURONS` and ``reset`` is ``"hard"``."""
    if neuron not in NEURONS:
        raise ValueError(f"{where}: neuron model {neuron!r} has no NIR node; only the LIF family "
                         f"({', '.join(NEURONS)}) is exportable")
    if reset == "soft":
        raise ValueError(f"{where}: soft reset (V = H - θS, subtract the threshold) is not expressible in NIR: "
                         f"NIR's LIF and IF reset the membrane to v_reset after a spike and have no reset by "
                         f"subtraction; only hard-reset (to 0) networks are exportable")
    if reset == "none":
        raise ValueError(f"{where}: no reset (V = H after a spike) is not expressible in NIR: NIR's spiking "
                         f"neurons (LIF, IF, CubaLIF) always reset the membrane to v_reset; only hard-reset "
                         f"(to 0) networks are exportable")
    if reset != "hard":
        raise ValueError(f"{where}: reset mode must be one of 'hard', 'soft', 'none', got {reset!r}")


def spiking_node(node, n: int, dt: float = DT, where: str = "layer"):
    """The NIR node of a spiking layer's ``n`` neurons (``nir.LIF``, or ``nir.IF`` at λ = 1); ``ValueError``
    naming what NIR lacks for any other neuron (:func:`check_exportable`, the module docstring)."""
    import nir

    check_exportable(getattr(node, "neuron", "LIF"), node.reset_mode, where)
    decay = _per_neuron(node.decay, n, f"{where}: decay")
    threshold = _per_neuron(node.v_threshold, n, f"{where}: v_threshold")
    zeros = np.zeros(n)
    if np.all(decay == 1.0):  # IF: v' = r I, one step adds dt r I = I
        return nir.IF(r=np.full(n, 1.0 / dt), v_threshold=threshold, v_reset=zeros)
    if np.any(decay == 1.0):
        raise ValueError(f"{where}: the layer mixes leaky (λ < 1) and non-leaky (λ = 1) neurons; NIR has no node "
                         f"for both (LIF needs τ = dt/(1-λ) finite, IF has no leak)")
    tau = dt / (1.0 - decay)  # one Euler step: v = (1 - dt/τ) v + (dt/τ) r I = λ v + I
    return nir.LIF(tau=tau, r=tau / dt, v_leak=zeros, v_threshold=threshold, v_reset=zeros)


def _input_gain(node, n: int, where: str) -> np.ndarray | None:
    """The node's ``input_gain`` per neuron, or ``None`` when absent or 1 everywhere."""
    gain = getattr(node, "input_gain", None)
    if gain is None:
        return None
    gain = _per_neuron(gain, n, f"{where}: input_gain")
    return None if np.all(gain == 1.0) else gain


def to_nir(model, dt: float = DT, readout: str = "li", readout_window: str | None = None):
    """The NIR graph of ``model`` (an :class:`~snnlib.model.models.SNN`); see the module docstring for what
    each node means and what is not exported.

    Args:
        model: the network: ``model.layers[i].fc``, ``.rec`` (``None`` when feed-forward) and ``.node``,
            ``model.readout.fc`` and ``model.readout.decay``.
        dt: the time step (seconds) the time constants are written for; ``> 0``.
        readout: ``"li"`` (end in the readout's leaky integrator, ``nir.LI``) or ``"affine"`` (end at its
            input current, for tools without ``nir.LI``).
        readout_window: the task's readout window in words, kept in the graph's metadata.

    Raises ``ValueError`` naming what NIR lacks (soft reset, no reset, other neuron models) or a bad argument.
    """
    import nir

    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {', '.join(READOUTS)}, got {readout!r}")
    if not isinstance(dt, (int, float)) or not dt > 0:
        raise ValueError(f"dt must be a number > 0 (seconds), got {dt!r}")
    n_in = model.layers[0].fc.in_features
    nodes = {"input": nir.Input(input_type={"input": np.array([n_in])})}
    edges, previous = [], "input"
    for i, layer in enumerate(model.layers):
        where, n = f"layer {i}", layer.fc.out_features
        neurons = spiking_node(layer.node, n, dt, where)
        gain = _input_gain(layer.node, n, where)
        weight, bias = _weights(layer.fc, gain)
        nodes[f"layer{i}.fc"] = nir.Affine(weight=weight, bias=bias if bias is not None else np.zeros(n, weight.dtype))
        edges.append((previous, f"layer{i}.fc"))
        if layer.rec is None:
            nodes[f"layer{i}.lif"], previous = neurons, f"layer{i}.lif"
        else:  # the cycle lif -> rec -> lif feeds back the previous step's spikes
            cell = nir.NIRGraph(
                nodes={"input": nir.Input(input_type={"input": np.array([n])}), "lif": neurons,
                       "rec": nir.Linear(weight=_weights(layer.rec, gain)[0]),
                       "output": nir.Output(output_type={"output": np.array([n])})},
                edges=[("input", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "output")])
            nodes[f"layer{i}.rnn"], previous = cell, f"layer{i}.rnn"
        edges.append((f"layer{i}.fc", previous))
    weight, bias = _weights(model.readout.fc)
    n_out = weight.shape[0]
    nodes["readout.fc"] = nir.Affine(weight=weight, bias=bias if bias is not None else np.zeros(n_out, weight.dtype))
    edges.append((previous, "readout.fc"))
    previous = "readout.fc"
    decay_o = float(model.readout.decay)
    if readout == "li":
        if decay_o == 1.0:  # a pure integrator: v' = r I, one step adds dt r I = I
            nodes["readout.li"] = nir.I(r=np.full(n_out, 1.0 / dt))
        else:
            tau = np.full(n_out, dt / (1.0 - decay_o))
            nodes["readout.li"] = nir.LI(tau=tau, r=tau / dt, v_leak=np.zeros(n_out))
        edges.append((previous, "readout.li"))
        previous = "readout.li"
    nodes["output"] = nir.Output(output_type={"output": np.array([n_out])})
    edges.append((previous, "output"))
    metadata = {"exported_by": "snnlib", "dt": float(dt), "readout": readout, "readout_decay": decay_o,
                "logits": "the readout membrane averaged over the task's readout window"}
    if readout_window is not None:
        metadata["readout_window"] = str(readout_window)
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def write_nir(model, path: str | Path, dt: float = DT, readout: str = "li", readout_window: str | None = None):
    """Write :func:`to_nir` of ``model`` to ``path`` (HDF5, ``nir.write``; read back with ``nir.read``) and
    return the graph. The graph is built before the file is opened: an error leaves no file."""
    import nir

    graph = to_nir(model, dt=dt, readout=readout, readout_window=readout_window)
    nir.write(str(path), graph)
    return graph
