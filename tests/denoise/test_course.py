"""A course-style harness against a two-line mini-project model.py built on nnkit.denoise.course.

The folder is laid out as the course hands projects in (Proj_XXXXXX_XXXXXX_XXXXXX/Miniproject_1/
model.py + __init__.py), put on sys.path and imported with importlib, as the course's test script
does; the data files are small synthetic ones in the course's format (torch.save of a tuple of
uint8 (N, 3, H, W) tensors: train_data.pkl (noisy, noisy), val_data.pkl (noisy, clean)).
"""

from __future__ import annotations

import importlib
import sys
import unittest
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnkit.denoise.course import Model

MODEL_PY = """\
from nnkit.denoise.course import Model
from nnkit import Conv2d, MSELoss, NearestUpsampling, ReLU, Sequential, Sigmoid, TransposeConv2d
"""
SIGMA = 25.0


def compute_psnr(x: torch.Tensor, y: torch.Tensor, max_range: float = 1.0) -> float:
    """The course's PSNR: per image, then the mean."""
    assert x.shape == y.shape and x.ndim == 4
    mse = ((x - y) ** 2).mean((1, 2, 3))
    return float(20 * torch.log10(torch.tensor(max_range)) - 10 * torch.log10(mse).mean())


def smooth_images(n: int, side: int, gen: torch.Generator) -> torch.Tensor:
    """Clean float images in 0-255: random colour fields at 1/8 resolution, smoothly upsampled.

    Values stay within 51-204, so that the noise is rarely clipped (as in most of a photo).
    """
    low = 0.2 + 0.6 * torch.rand(n, 3, side // 8, side // 8, generator=gen)
    return F.interpolate(low, size=(side, side), mode="bicubic", align_corners=False).clamp(0, 1) * 255


def noisy(clean: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return (clean + SIGMA * torch.randn(clean.shape, generator=gen)).clamp(0, 255).round().to(torch.uint8)


@pytest.fixture(scope="module")
def data_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    gen = torch.Generator().manual_seed(0)
    train_clean = smooth_images(64, 32, gen)
    torch.save((noisy(train_clean, gen), noisy(train_clean, gen)), folder / "train_data.pkl")
    val_clean = smooth_images(8, 48, gen)
    torch.save((noisy(val_clean, gen), val_clean.round().to(torch.uint8)), folder / "val_data.pkl")
    return folder


def course_project(tmp_path_factory: pytest.TempPathFactory, package_name: str) -> Iterator[ModuleType]:
    """Proj_XXXXXX_XXXXXX_XXXXXX/<package_name> holding the two-line model.py, imported as the course does."""
    root = tmp_path_factory.mktemp(package_name) / "Proj_123456_234567_345678"
    package = root / package_name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "model.py").write_text(MODEL_PY)
    sys.path.append(str(root))
    try:
        yield importlib.import_module(f"{package_name}.model")
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == package_name or m.startswith(f"{package_name}.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """Miniproject_1: the denoiser's project."""
    yield from course_project(tmp_path_factory, "Miniproject_1")


@pytest.fixture(scope="module")
def project2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """Miniproject_2: the same two lines, as the blocks' project (the course imports Miniproject_2.model)."""
    yield from course_project(tmp_path_factory, "Miniproject_2")


class CourseBlockTest(unittest.TestCase):
    """The course test.py's test_framework_block, verbatim (its title() print left out)."""

    __test__ = False  # run below, once per seed, through unittest as the course runs it

    def test_framework_block(self) -> None:
        model_module = importlib.import_module(f"Miniproject_2.model")  # noqa: F541

        x = torch.randn(1, 3, 32, 32)

        with self.subTest("Testing convolution"):
            Conv2d = model_module.Conv2d
            conv = Conv2d(3, 3, 3)
            self.assertTrue(torch.allclose(conv.forward(x), F.conv2d(x, conv.weight, conv.bias)))

        with self.subTest("Testing sigmoid"):
            Sigmoid = model_module.Sigmoid
            sigmoid = Sigmoid()
            self.assertTrue(torch.allclose(sigmoid.forward(x), torch.sigmoid(x)))

        with self.subTest("Testing sequential"):
            Sequential = model_module.Sequential
            seq = Sequential(conv, sigmoid)
            self.assertTrue(torch.allclose(seq.forward(x), F.conv2d(x, conv.weight, conv.bias).sigmoid()))


@given(seed=st.integers(0, 2**63 - 1))
def test_course_block_checks_pass_verbatim(project2: ModuleType, seed: int) -> None:
    """The three block checks (convolution, sigmoid, sequential) with allclose's defaults, for any draw."""
    torch.manual_seed(seed)  # the course's x and Conv2d(3, 3, 3) weights come from the global generator
    result = unittest.TestResult()
    CourseBlockTest("test_framework_block").run(result)
    assert result.testsRun == 1
    assert result.wasSuccessful(), [(str(test), trace.splitlines()[-1]) for test, trace in result.failures]


@given(
    seed=st.integers(0, 2**63 - 1),
    shape=st.sampled_from([(3, 3, 3, 1, 0, 1), (3, 48, 3, 2, 1, 1), (3, 32, 3, 1, 1, 1), (3, 3, 3, 1, 1, 2)]),
)
def test_course_style_checks_over_the_projects_layers(project2: ModuleType, seed: int, shape: tuple) -> None:
    """The same checks in the course's style for the layers a project-2 network uses, one 32x32 image."""
    c_in, c_out, k, stride, padding, dilation = shape
    torch.manual_seed(seed)
    x = torch.randn(1, 3, 32, 32)
    conv = project2.Conv2d(c_in, c_out, k, stride=stride, padding=padding, dilation=dilation)
    expected = F.conv2d(x, conv.weight, conv.bias, stride, padding, dilation)
    assert torch.allclose(conv.forward(x), expected)
    second = project2.Conv2d(c_out, 3, 3, padding=1)
    seq = project2.Sequential(conv, project2.ReLU(), second, project2.Sigmoid())
    expected = F.conv2d(F.relu(expected), second.weight, second.bias, padding=1).sigmoid()
    assert torch.allclose(seq.forward(x), expected)


def predict_all(model: Model, images: torch.Tensor, batch: int = 100) -> torch.Tensor:
    """The course's loop: predict in mini-batches, outputs scaled to [0, 1]."""
    outputs = [model.predict(images.narrow(0, b, min(batch, images.size(0) - b))) for b in range(0, len(images), batch)]
    return torch.cat(outputs, dim=0) / 255.0


def test_folder_structure_and_instantiation(project: ModuleType) -> None:
    assert Path(project.__file__).read_text().count("\n") == 2  # the two lines
    assert project.Model is Model
    project.Model()


def test_predict_dummy_input_keeps_shape_and_range(project: ModuleType) -> None:
    out = project.Model().predict(torch.rand(1, 3, 512, 512) * 255)
    assert out.shape == (1, 3, 512, 512)
    assert float(out.min()) >= 0 and float(out.max()) <= 255
    assert float(out.max()) > 1  # 0-255, not 0-1


def test_pretrained_model_beats_the_noisy_input(project: ModuleType, data_path: Path) -> None:
    model = project.Model()
    model.load_pretrained_model()
    val_input, val_target = torch.load(data_path / "val_data.pkl")
    val_target = val_target.float() / 255.0
    before = compute_psnr(val_input.float() / 255.0, val_target)
    after = compute_psnr(predict_all(model, val_input), val_target)
    assert after > before + 3.0, (before, after)  # the untrained model is the identity: this needs the checkpoint


def test_one_epoch_raises_psnr(project: ModuleType, data_path: Path) -> None:
    train_input0, train_input1 = torch.load(data_path / "train_data.pkl")
    val_input, val_target = torch.load(data_path / "val_data.pkl")
    val_target = val_target.float() / 255.0
    model = project.Model()
    before = compute_psnr(predict_all(model, val_input), val_target)
    model.train(train_input0, train_input1, num_epochs=1)
    after = compute_psnr(predict_all(model, val_input), val_target)
    assert model.last_finished is not None and model.last_finished.reason == "done"
    assert after > before, (before, after)


def test_pretrained_model_trains_right_away(project: ModuleType, data_path: Path) -> None:
    """The loaded model is in train mode: train() works without a model.train() call (the course's test)."""
    train_input0, train_input1 = torch.load(data_path / "train_data.pkl")
    val_input, val_target = torch.load(data_path / "val_data.pkl")
    val_target = val_target.float() / 255.0
    model = project.Model()
    model.load_pretrained_model()
    model.train(train_input0[:20], train_input1[:20], num_epochs=1)  # N below the batch size works too
    assert model.last_finished is not None and model.last_finished.reason == "done"
    assert compute_psnr(predict_all(model, val_input), val_target) > compute_psnr(val_input.float() / 255, val_target)


def test_framework_blocks_match_torch_functional(project: ModuleType) -> None:
    """The blocks beyond the course's three checks (those: test_course_block_checks_pass_verbatim)."""
    x = torch.randn(1, 3, 32, 32)
    assert torch.allclose(project.ReLU().forward(x), F.relu(x))
    up = project.NearestUpsampling(2)
    assert torch.equal(up.forward(x), F.interpolate(x, scale_factor=2, mode="nearest"))
    upconv = project.Sequential(project.NearestUpsampling(2), project.Conv2d(3, 2, 3, padding=1))
    expected = F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), upconv[1].weight, upconv[1].bias, padding=1)
    assert torch.allclose(upconv.forward(x), expected, atol=1e-5)
    target = torch.rand(1, 3, 32, 32)
    assert torch.allclose(project.MSELoss().forward(x, target), F.mse_loss(x, target))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((torch.zeros(2, 3, 8, 8), torch.zeros(2, 3, 8, 9), 1), "differ in shape"),
        ((torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 8), 1), "train_input must have shape"),
        ((torch.zeros(2, 3, 8, 8), torch.zeros(2, 3, 8, 8), 0), "num_epochs"),
        ((torch.zeros(2, 3, 8, 8, dtype=torch.int64), torch.zeros(2, 3, 8, 8), 1), "uint8 or floating"),
    ],
)
def test_bad_training_input_names_the_argument(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Model().train(*args)


def test_predict_rejects_a_single_image_without_batch() -> None:
    with pytest.raises(ValueError, match=r"test_input must have shape \(N, 3, H, W\)"):
        Model().predict(torch.zeros(3, 8, 8))
