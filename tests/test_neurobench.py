r"""snnlib's SynOps against NeuroBench's ``SynapticOperations`` metric (neurobench 2.3.0).

NeuroBench hooks every ``nn.Linear`` and, at each call, counts the products of a nonzero input with a
nonzero weight (bias excluded), as accumulates (effective ACs) when the whole input is 0/±1 and as
multiply-accumulates (effective MACs) otherwise, summed over the calls and divided by the number of
samples; snnlib counts ``fan_out_l · Σ S_l / B`` per spiking layer (next layer or readout, plus the
layer itself if recurrent), plus ``n_0 · Σ x / B`` for spike input (:mod:`snnlib.measure.metrics`).
Stepped through time, NeuroBench's effective ACs equal snnlib's SynOps exactly for feed-forward
networks; for recurrent ones they fall short by exactly the last step's recurrent synapses,
``Σ_l n_l · Σ_b S_l[T-1] / B``, which snnlib counts and a stepped run never executes. Real-valued input
currents are NeuroBench effective MACs (``n_0 ×`` nonzero inputs), which snnlib leaves out of SynOps, and
NeuroBench skips synapses whose weight is exactly zero, which snnlib counts.

NeuroBench wants a model called on ``[B, T, F]`` whose layers it can hook at every step, so the
adapter :class:`Stepped` runs an snnlib :class:`~snnlib.model.models.SNN` one step at a time through
its own modules (``fc``, ``rec``, the node's single step, the readout's ``fc``); the tests check that it
reproduces the spikes of snnlib's own forward pass bit for bit before comparing counts.
"""

import pytest
import torch
from neurobench.benchmarks import Benchmark
from neurobench.metrics.workload import SynapticOperations
from neurobench.models import NeuroBenchModel
from spikingjelly.activation_based import functional
from torch.utils.data import DataLoader, TensorDataset

from snnlib.data import get_task
from snnlib.measure import metrics
from snnlib.model.models import build_snn

torch.set_num_threads(1)

N_SAMPLES, BATCH = 32, 16  # two NeuroBench batches: its per-sample average spans batches as snnlib's does


class Stepped(NeuroBenchModel):
    r"""An snnlib SNN stepped through time for NeuroBench: ``batch [B, T, F] -> logits [B, out]``.

    At each step ``t`` and layer ``l``:  ``I = fc_l(h_{l-1}[t]) (+ rec_l(S_l[t-1]))``,
    ``S_l[t] = node_l(I)``; the readout ``U[t] = λ_o U[t-1] + fc_o(S_{L-1}[t])``, logits ``= mean_t U[t]``
    (the readout window of the whole sequence, as ``SNN.forward``'s default). ``S_l[-1] = 0``.
    :attr:`spikes` holds the spikes ``[T, N, n_l]`` of each layer over all the batches it was called on.
    """

    def __init__(self, net):
        super().__init__()
        self.net = net.eval()
        self.batches: list[list[torch.Tensor]] = []  # per call: the spikes [T, B, n_l] of each layer

    @property
    def spikes(self) -> list[torch.Tensor]:
        return [torch.cat(layer, dim=1) for layer in zip(*self.batches)]

    def __net__(self):
        return self.net

    @torch.no_grad()
    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        net = self.net
        functional.reset_net(net)
        x = batch.transpose(0, 1)  # [T, B, F], snnlib's layout
        previous = [torch.zeros(x.shape[1], layer.out_features) for layer in net.layers]
        spikes, membranes, u = [[] for _ in net.layers], [], 0.0
        for x_t in x:
            h = x_t
            for l, layer in enumerate(net.layers):
                current = layer.fc(h)
                if layer.recurrent:
                    current = current + layer.rec(previous[l])
                h = previous[l] = layer.node.single_step_forward(current)
                spikes[l].append(h)
            u = net.readout.decay * u + net.readout.fc(h)
            membranes.append(u)
        self.batches.append([torch.stack(s) for s in spikes])
        return torch.stack(membranes).mean(0)


def neurobench_synops(net, x: torch.Tensor, y: torch.Tensor) -> tuple[dict, Stepped]:
    """NeuroBench's per-sample ``Effective_MACs``, ``Effective_ACs`` and ``Dense`` for ``x [T, N, F]``,
    through its own Benchmark loop (hooks registered, reset after each batch)."""
    model = Stepped(net)
    loader = DataLoader(TensorDataset(x.transpose(0, 1), y), batch_size=BATCH)
    result = Benchmark(model, loader, [], [], [[], [SynapticOperations]]).run(quiet=True)["SynapticOperations"]
    assert isinstance(result, dict), f"NeuroBench's metric failed (it reports 0.0 on error): {result!r}"
    return result, model


def total(per_sample: float) -> int:
    """Operations over the ``N_SAMPLES`` samples: an integer, up to the rounding of the division."""
    count = round(per_sample * N_SAMPLES)
    assert per_sample * N_SAMPLES == pytest.approx(count, abs=1e-6)
    return count


def last_step_recurrent_synops(net, spikes) -> float:
    """``Σ_l n_l · Σ_b S_l[T-1] / B`` over the recurrent layers: synapses driven after the sequence ends."""
    return sum(layer.out_features * s[-1].sum().item()
               for layer, s in zip(net.layers, spikes) if layer.recurrent) / spikes[0].shape[1]


@pytest.fixture(scope="module", params=["delayed-recall", "digits"])
def task_data(request):
    """Inputs ``[T, 32, F]`` and labels of a spike-encoded and a current-encoded task."""
    task = get_task(request.param, n_train=16, n_test=N_SAMPLES) if request.param == "delayed-recall" \
        else get_task(request.param)
    return task, task.x_test[:, :N_SAMPLES], task.y_test[:N_SAMPLES]


def fresh_snn(task, variant, hidden):
    torch.manual_seed(0)
    return build_snn(task.n_inputs, hidden, task.n_classes, variant, threshold=0.5)


@pytest.mark.parametrize("hidden", [[40], [40, 30]], ids=["1-layer", "2-layer"])
@pytest.mark.parametrize("variant", ["LIF", "RLIF"])
def test_effective_acs_are_snnlib_synops_less_the_last_recurrent_step(task_data, variant, hidden):
    task, x, y = task_data
    spike_input = task.encoding == "spikes"
    net = fresh_snn(task, variant, hidden)
    ours = metrics.measure(net, x, y, batch_size=BATCH, input_spikes=spike_input)
    with torch.no_grad():
        net.hidden(x)  # snnlib's own forward pass over all the samples at once
    reference_spikes = net.last_spikes
    assert sum(s.sum().item() for s in reference_spikes) > 0, "a silent network would make the check vacuous"

    theirs, stepped = neurobench_synops(net, x, y)
    # the adapter runs the very network snnlib ran
    assert all(torch.equal(a, b) for a, b in zip(stepped.spikes, reference_spikes))

    missing = last_step_recurrent_synops(net, reference_spikes)
    assert (missing > 0) == (variant == "RLIF")  # the recurrent case really tests the difference
    assert total(theirs["Effective_ACs"]) == total(ours["synops"]) - total(missing)

    # the input layer: spikes are ACs (counted by both), currents are MACs (counted by NeuroBench only)
    nonzero_inputs = total(hidden[0] * (x != 0).sum().item() / N_SAMPLES)
    assert total(ours["synops"] - sum(ours["layer_synops"])) == (nonzero_inputs if spike_input else 0)
    assert total(theirs["Effective_MACs"]) == (0 if spike_input else nonzero_inputs)


@pytest.mark.parametrize("variant", ["LIF", "RLIF"])
def test_dense_ops_are_every_synapse_at_every_step(task_data, variant):
    task, x, y = task_data
    net = fresh_snn(task, variant, [40, 30])
    theirs, _ = neurobench_synops(net, x, y)
    sizes = [task.n_inputs, 40, 30, task.n_classes]
    synapses = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    if variant == "RLIF":
        synapses += 40 * 40 + 30 * 30
    assert theirs["Dense"] == x.shape[0] * synapses


def test_zero_weights_are_skipped_by_neurobench_not_by_snnlib(task_data):
    """A known disagreement: pruning the synapses from hidden neuron ``j`` of layer 0 to ``k`` neurons
    of layer 1 removes ``k · Σ_{t,b} S_0[t,b,j] / B`` from NeuroBench's ACs and nothing from snnlib's SynOps."""
    task, x, y = task_data
    net = fresh_snn(task, "LIF", [40, 30])
    with torch.no_grad():
        net.hidden(x)
    spikes_per_neuron = net.last_spikes[0].sum((0, 1))  # Σ_{t,b} S_0[t,b,j] of each neuron j
    j, k = int(spikes_per_neuron.argmax()), 7
    assert spikes_per_neuron[j] > 0
    with torch.no_grad():
        net.layers[1].fc.weight[:k, j] = 0.0  # layer 0's spikes do not depend on layer 1's weights
    ours = metrics.measure(net, x, y, batch_size=BATCH, input_spikes=task.encoding == "spikes")
    theirs, stepped = neurobench_synops(net, x, y)
    assert torch.equal(stepped.spikes[0].sum((0, 1)), spikes_per_neuron)
    assert total(ours["synops"]) - total(theirs["Effective_ACs"]) == total(k * spikes_per_neuron[j].item() / N_SAMPLES)
