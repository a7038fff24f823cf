"""Benchmarks (not tests): nnkit against its torch.nn twin, side by side in one process."""
