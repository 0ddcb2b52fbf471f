"""Qt-free analyses of a snapshot for the views: where the blame ∂J/∂w comes from and who has most."""
