"""The task names, importable without torch or scikit-learn (for configuration and the command line).

``snnlib.data`` loads its builders lazily, so ``import snnlib.data.names`` imports neither torch nor
scikit-learn. :data:`snnlib.data.TASKS` is the same tuple, checked by the tests.
"""

TASK_NAMES = ("digits", "seq-digits", "mnist1d", "japanese-vowels", "delayed-recall", "temporal-xor", "shd",
              "nmnist")

#: the tasks that test memory: read out over a recall window with a memoryless readout (``λ_o = 0``)
MEMORY_TASKS = ("delayed-recall", "temporal-xor")
