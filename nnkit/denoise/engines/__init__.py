"""Training engines (base: the interface and the nnkit engine; twin: the torch.nn engine; lockstep: both)."""
