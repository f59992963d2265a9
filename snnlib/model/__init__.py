"""The model: variant names (torch-free), the neuron node, layers and networks."""
