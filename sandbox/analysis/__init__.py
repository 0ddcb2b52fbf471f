"""Qt-free derived views of a snapshot: blame terms, ranking, per-neuron statistics."""
