"""Packaging beyond pyproject.toml: the top-level assets/ folder ships inside the wheel.

assets/ (photos, the photo corpus, the shipped checkpoint) sits at the top of the checkout,
where the project card wants it; a wheel carries it as ``nnkit/denoise/assets`` so that a
non-editable install finds it too (nnkit.denoise.asset_paths resolves both places).
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["nnkit*", "denoise_gui*"]), "nnkit.denoise.assets"],
    package_dir={"nnkit.denoise.assets": "assets"},
    package_data={"nnkit.denoise.assets": ["*", "**/*"]},
)
