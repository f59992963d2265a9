"""Multi-layer spiking networks built from a :class:`~snnlib.model.variants.Variant`.

``build_snn(n_inputs, hidden_sizes, n_outputs, variant, decay)`` stacks one
:class:`~snnlib.model.layers.SpikingLinear` per hidden size, all of the same variant, and ends in the
non-spiking :class:`~snnlib.model.layers.LeakyReadout`. The readout decay is fixed across
variants (default 0.5) so that memory, when there is any, must live in the spiking layers.

Every forward pass starts from a cleared state (``V = 0``, ``S = 0``): the state never leaks between
batches. Feeding samples back to back without a reset is done by concatenating them in time
(:mod:`snnlib.data` streams), not by skipping the reset.
"""

from __future__ import annotations

import torch
from spikingjelly.activation_based import functional
from torch import nn

from snnlib.model.layers import LeakyReadout, SpikingLinear
from snnlib.model.dynamics import check_decay
from snnlib.model.variants import Variant


class SNN(nn.Module):
    """Spiking layers followed by a leaky readout; ``forward(x [T, B, in]) -> logits [B, out]``."""

    def __init__(self, layers: list[SpikingLinear], readout: LeakyReadout, variant: Variant):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.readout = readout
        self.variant = variant
        self.last_spikes: list[torch.Tensor] = []  # spikes [T, B, n] of each layer, last forward pass

    def membrane(self, x_seq: torch.Tensor) -> torch.Tensor:
        """Readout membrane ``[T, B, out]`` from a cleared state; records ``last_spikes``."""
        return self.readout.membrane(self.hidden(x_seq))

    def hidden(self, x_seq: torch.Tensor) -> torch.Tensor:
        """Spikes ``[T, B, n]`` of the last spiking layer from a cleared state; records ``last_spikes``."""
        functional.reset_net(self)
        spikes, h = [], x_seq
        for layer in self.layers:
            h = layer(h)
            spikes.append(h)
        self.last_spikes = spikes
        return h

    def forward(self, x_seq: torch.Tensor, window=slice(None)) -> torch.Tensor:
        """Logits ``[B, out]``: readout membrane averaged over ``window`` (default: all steps), computed
        without a time loop (:class:`~snnlib.model.layers.LeakyReadout`); a tuple of ``K`` windows gives
        ``[K, B, out]``."""
        return self.readout(self.hidden(x_seq), window)


def check_sizes(name: str, value, allow_empty: bool = False) -> list[int]:
    sizes = [value] if isinstance(value, int) else list(value)
    if (not sizes and not allow_empty) or not all(isinstance(s, int) and s > 0 for s in sizes):
        raise ValueError(f"{name} must be {'' if allow_empty else 'a non-empty list of '}positive integers, got {value!r}")
    return sizes


def build_snn(n_inputs: int, hidden_sizes, n_outputs: int, variant: Variant | str = "LIF",
              decay: float = 0.5, readout_decay: float = 0.5, threshold: float = 1.0,
              store_v_seq: bool = False, backend: str = "fused", neuron_params: dict | None = None) -> SNN:
    """Build an SNN of ``variant``.

    Args:
        n_inputs, n_outputs: input features and classes.
        hidden_sizes: neurons of each spiking layer, e.g. ``[128]`` or ``[128, 64]``.
        variant: a :class:`Variant` or its name (``"LIF"``, ``"RIF-noreset"``, ``"RPLIF"``, ...).
        decay: ``λ`` of the leaky variants; non-leaky variants use their own (``IF``: 1) whatever this says
            (:meth:`Variant.decay`).
        readout_decay: ``λ_o`` of the readout integrator, the same for every variant.
        threshold: θ of every spiking neuron.
        store_v_seq: record the hidden membranes (``layer.node.v_seq``).
        backend: the nodes' execution backend, ``"fused"`` or ``"torch"``
            (:class:`~snnlib.model.neurons.VariantNode`).
        neuron_params: further parameters of the variant's neuron model (e.g. ALIF's ``beta``).
    """
    variant = Variant.parse(variant)
    hidden = check_sizes("hidden_sizes", hidden_sizes)
    check_sizes("n_inputs", n_inputs)
    check_sizes("n_outputs", n_outputs)
    lam = variant.decay(check_decay(decay))
    sizes = [n_inputs, *hidden]
    layers = [SpikingLinear(a, b, decay=lam, reset=variant.reset, recurrent=variant.recurrent,
                            threshold=threshold, store_v_seq=store_v_seq, backend=backend,
                            neuron=variant.neuron, **(neuron_params or {}))
              for a, b in zip(sizes[:-1], sizes[1:])]
    return SNN(layers, LeakyReadout(sizes[-1], n_outputs, decay=readout_decay), variant)
