"""Noise2Noise denoising on nnkit: config, data, trainer, checkpoints, inference, CLI."""
