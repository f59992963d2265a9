"""Measurement: training, metrics, attacks and the robustness audit, untrained dynamics."""
