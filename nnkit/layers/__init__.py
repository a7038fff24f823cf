"""nnkit layers, one concept a file."""
