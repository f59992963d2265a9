"""Untrained dynamics: drive every variant with the same input current and record what it does.

Each variant gets ``n_neurons`` neurons fed the *same* current ``I[t]`` (no input weights), so the
traces differ only by the neuron model. Recurrent variants add ``W_rec S[t-1]`` with a
fixed random ``W_rec`` (seeded; entries ``N(0, rec_scale^2 / n_neurons)``, no self-connections), so
their traces also show the network's own feedback.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from snnlib.model.layers import SpikingLinear
from snnlib.model.variants import Variant, parse_variants


def step_current(n_steps: int = 60, n_neurons: int = 8, low: float = 0.15, high: float = 0.6,
                 on: tuple[int, int] = (10, 40), seed: int = 0) -> torch.Tensor:
    """A noisy current step ``[T, n_neurons]``: ``low`` outside ``on``, ``high`` inside, plus N(0, 0.1²) noise."""
    gen = torch.Generator().manual_seed(seed)
    current = torch.full((n_steps, n_neurons), low)
    current[on[0]:on[1]] = high
    return current + 0.1 * torch.randn(n_steps, n_neurons, generator=gen)


@torch.no_grad()
def simulate(variant: Variant | str, current: torch.Tensor, decay: float = 0.5, rec_scale: float = 0.5,
             seed: int = 0) -> dict:
    """Run one variant on ``current [T, n]``; returns ``{"v": V[t] [T, n], "spikes": S[t] [T, n]}``."""
    variant = Variant.parse(variant)
    n = current.shape[1]
    layer = SpikingLinear(n, n, decay=variant.decay(decay), reset=variant.reset, recurrent=variant.recurrent,
                          store_v_seq=True, neuron=variant.neuron)
    layer.fc.weight.copy_(torch.eye(n))
    layer.fc.bias.zero_()
    if variant.recurrent:
        gen = torch.Generator().manual_seed(seed)
        w = torch.randn(n, n, generator=gen) * rec_scale / np.sqrt(n)
        layer.rec.weight.copy_(w.fill_diagonal_(0.0))
    spikes = layer(current[:, None, :])[:, 0]
    return {"v": layer.node.v_seq[:, 0], "spikes": spikes}


def traces(variants, current: torch.Tensor, decay: float = 0.5, seed: int = 0) -> pd.DataFrame:
    """Long table (variant, t, neuron, current, v, spike) of every variant driven by ``current``."""
    rows = []
    for variant in parse_variants(variants):
        out = simulate(variant, current, decay=decay, seed=seed)
        T, n = current.shape
        rows.append(pd.DataFrame({
            "variant": variant.name, "t": np.repeat(np.arange(T), n), "neuron": np.tile(np.arange(n), T),
            "current": current.flatten().numpy(), "v": out["v"].flatten().numpy(),
            "spike": out["spikes"].flatten().numpy().astype(int)}))
    return pd.concat(rows, ignore_index=True)
