"""How good a denoised image is, four ways, a file each.

* ``metrics``: PSNR (as the course computes it) and SSIM of float tensors, what training reports;
* ``photo_compare``: the same on two uint8 photos, and a difference image (what the app shows);
* ``denoiser_scores``: a denoiser's scores on the validation photos with fixed seeded noise
  (the numbers quoted for the shipped checkpoint and the baselines);
* ``region_scores``: PSNR and colour bias inside the flat and the dark areas of a photo.
"""
