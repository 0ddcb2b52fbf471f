"""Backprop Sandbox: see, step and edit every gradient of a small neural network."""

__version__ = "0.1.0"
