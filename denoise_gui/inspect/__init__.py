"""The Inspect view: per-layer statistics of a running network, the gradient check, lockstep drift."""
