"""Choices the command line offers, kept apart from the modules that implement them so `--help` is instant."""

EXPORT_TARGETS = ("python", "brian2", "neuron", "neuroml", "nestml")
"""Every `discover export --to` target, in the order `--to all` writes them."""

DEMO_OUT = "results/demo"
"""Where `discover demo` writes without --out."""
