"""The study: experiment declarations (torch-free), one run, records, sweeps and ensembles."""
