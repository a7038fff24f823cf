"""The Denoise view: photos dropped or opened, denoised by a chosen model, compared closely."""
