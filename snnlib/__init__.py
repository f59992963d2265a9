"""snnlib: leakage, reset and recurrence in leaky integrate-and-fire networks.

Modules, one concern each: :mod:`~snnlib.variants` (names), :mod:`~snnlib.neurons` (the node),
:mod:`~snnlib.layers` and :mod:`~snnlib.models` (networks), :mod:`~snnlib.tasks` (data),
:mod:`~snnlib.train` (BPTT with surrogate gradients), :mod:`~snnlib.experiment` (one run),
:mod:`~snnlib.metrics`, :mod:`~snnlib.attacks`, :mod:`~snnlib.stats`, :mod:`~snnlib.claims` (verdicts),
:mod:`~snnlib.records` and :mod:`~snnlib.sweep` (recorded, resumable runs), :mod:`~snnlib.profiles`
and :mod:`~snnlib.study` (what each experiment runs), :mod:`~snnlib.dynamics`, :mod:`~snnlib.plots`,
:mod:`~snnlib.report`, :mod:`~snnlib.checks`, :mod:`~snnlib.paths` and :mod:`~snnlib.cli`.
Tensor layout throughout: time first, ``[T, B, features]``.
"""

__version__ = "0.1.0"
