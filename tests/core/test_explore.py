"""The Explore screen's maths (core/kernels.py, core/features.py) against values worked by hand.

The book's convolution is nn.Conv2d(3, 1, 3) with one 3x3 kernel set on all three input
channels: each output pixel is the kernel's weighted sum over the 3x3 neighbourhood,
added over R, G and B. Images here are made so that every expected number is easy to
compute by hand, and are fed in the "unit" scale ([0, 1], no normalisation) or as floats
unless a test is about the normalisation.
"""

from __future__ import annotations

import pytest
import torch
from cnn_tui.core.data import MEAN, STD
from cnn_tui.core.features import FeatureError, feature_maps
from cnn_tui.core.kernels import (
    KERNELS,
    KernelError,
    apply_kernel,
    format_kernel,
    kernel_tiles,
    learned_kernels,
    parse_kernel,
    to_input,
)
from cnn_tui.core.models import build_model
from torch import nn

BLUR = KERNELS["blur"]
VERTICAL = KERNELS["vertical edge"]
HORIZONTAL = KERNELS["horizontal edge"]


def constant_image(value: int, size: int = 32) -> torch.Tensor:
    return torch.full((3, size, size), value, dtype=torch.uint8)


def flat(kernel) -> list[float]:
    return [value for row in kernel for value in row]


def vertical_step(left: int = 0, right: int = 255, at: int = 16) -> torch.Tensor:
    """Columns before `at` are `left`, the rest `right`, in all three channels."""
    image = torch.full((3, 32, 32), left, dtype=torch.uint8)
    image[:, :, at:] = right
    return image


# -- the blur -----------------------------------------------------------------------------


def test_blur_of_a_constant_channel_is_the_constant_inside_with_zero_padding_at_the_edges():
    # One channel of value 0.7: every inside pixel's 3x3 mean is 0.7. With padding 1 the
    # border pixels also average the zeros beyond the edge: a corner sees 4 of its 9
    # neighbours (4/9 * 0.7), an edge pixel 6 of 9 (6/9 * 0.7).
    image = torch.full((1, 32, 32), 0.7)
    out = apply_kernel(image, BLUR, padding=True).output
    assert out.shape == (32, 32)
    torch.testing.assert_close(out[1:-1, 1:-1], torch.full((30, 30), 0.7))
    for corner in (out[0, 0], out[0, -1], out[-1, 0], out[-1, -1]):
        assert corner.item() == pytest.approx(0.7 * 4 / 9, abs=1e-6)
    for edge in (out[0, 1:-1], out[-1, 1:-1], out[1:-1, 0], out[1:-1, -1]):
        torch.testing.assert_close(edge, torch.full((30,), 0.7 * 6 / 9))

    unpadded = apply_kernel(image, BLUR, padding=False).output
    assert unpadded.shape == (30, 30)
    torch.testing.assert_close(unpadded, torch.full((30, 30), 0.7))  # no edge effects


def test_blur_of_a_constant_rgb_image_is_the_sum_of_its_channel_constants():
    # uint8 51 -> 0.2 in each channel ("unit" scale); the book's kernel sits on all three
    # input channels and their results add up: 3 * 0.2 = 0.6 inside.
    out = apply_kernel(constant_image(51), BLUR, scale="unit").output
    torch.testing.assert_close(out[1:-1, 1:-1], torch.full((30, 30), 0.6))
    assert out[0, 0].item() == pytest.approx(0.6 * 4 / 9, abs=1e-6)


def test_blur_of_a_constant_image_in_the_books_normalisation():
    # Normalised, channel c holds (v/255 - mean_c) / std_c: the inside is their sum.
    value = 200
    expected = sum((value / 255 - MEAN[c]) / STD[c] for c in range(3))
    out = apply_kernel(constant_image(value), BLUR).output
    torch.testing.assert_close(out[1:-1, 1:-1], torch.full((30, 30), expected))


# -- the edges ----------------------------------------------------------------------------


def test_vertical_edge_of_a_vertical_step_worked_by_hand():
    # Columns 0..15 are 0, columns 16..31 are 1 (255 in "unit" scale) in all 3 channels.
    # Rows [-1, 0, 1]: output = right neighbour - left neighbour, summed over 3 rows and
    # 3 channels. Columns 15 and 16 straddle the step: 1 * 3 rows * 3 channels = 9.
    # With zero padding, column 31's right neighbour is the padding: 0 - 1 -> -9, and the
    # top and bottom rows see only 2 of the 3 rows: 6 and -6. Everything else is 0.
    out = apply_kernel(vertical_step(), VERTICAL, scale="unit").output
    expected = torch.zeros(32, 32)
    expected[:, 15] = 9.0
    expected[:, 16] = 9.0
    expected[:, 31] = -9.0
    expected[0, [15, 16]] = 6.0
    expected[31, [15, 16]] = 6.0
    expected[0, 31] = -6.0
    expected[31, 31] = -6.0
    assert torch.equal(out, expected)  # small integers: exact in float32


def test_vertical_edge_step_height_and_sign():
    # A step of height h gives 9h (3 rows x 3 channels); darker to the right gives -9h.
    height = 0.25
    image = torch.zeros(3, 32, 32)
    image[:, :, 16:] = height
    out = apply_kernel(image, VERTICAL, padding=False).output
    assert out.shape == (30, 30)
    # Without padding, output column j is centred on input column j + 1.
    expected = torch.zeros(30, 30)
    expected[:, 14] = expected[:, 15] = 9 * height
    assert torch.equal(out, expected)
    reverse = apply_kernel(vertical_step(255, 0), VERTICAL, padding=False, scale="unit").output
    assert reverse[:, 14].tolist() == [-9.0] * 30
    assert reverse[:, 15].tolist() == [-9.0] * 30
    # The vertical edge kernel does not see a horizontal step, and the other way round.
    horizontal_step = vertical_step().transpose(1, 2).contiguous()
    assert torch.equal(
        apply_kernel(horizontal_step, VERTICAL, padding=False, scale="unit").output,
        torch.zeros(30, 30),
    )
    sideways = apply_kernel(horizontal_step, HORIZONTAL, padding=False, scale="unit").output
    assert sideways[14].tolist() == [9.0] * 30
    assert sideways[15].tolist() == [9.0] * 30
    assert torch.count_nonzero(sideways) == 60


def test_identity_and_sharpen_of_known_images():
    image = torch.randint(
        0, 256, (3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)
    )
    x = image.float() / 255
    identity = apply_kernel(image, KERNELS["identity"], scale="unit").output
    torch.testing.assert_close(identity, x.sum(dim=0))  # the pixel itself, R + G + B
    # Sharpen: 5 x centre - 4 neighbours; on a constant 0.2 image that is 0.2 per channel.
    sharp = apply_kernel(constant_image(51), KERNELS["sharpen"], padding=False, scale="unit")
    torch.testing.assert_close(sharp.output, torch.full((30, 30), 0.6))


# -- shapes and pooling -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("padding", "pool", "conv_side", "out_side"),
    [
        (True, None, 32, 32),
        (False, None, 30, 30),
        (True, "max", 32, 16),
        (True, "avg", 32, 16),
        (False, "max", 30, 15),
        (False, "avg", 30, 15),
    ],
)
def test_shapes_with_and_without_padding_and_pooling(padding, pool, conv_side, out_side):
    result = apply_kernel(constant_image(9), BLUR, padding=padding, pool=pool)
    assert result.input_shape == (1, 3, 32, 32)
    assert result.conv_shape == (1, 1, conv_side, conv_side)
    assert result.output_shape == (1, 1, out_side, out_side)
    assert tuple(result.output.shape) == (out_side, out_side)
    assert f"(1, 1, {conv_side}, {conv_side})" in result.describe()
    assert ("pool 2" in result.describe()) == (pool is not None)


def test_max_and_average_pool_values_by_hand():
    # The padded vertical-edge map of the step (see above) has 9 in columns 15 and 16.
    # Pool 2 takes 2x2 blocks: columns (14, 15) and (16, 17) each hold one 9 and one 0.
    maxed = apply_kernel(vertical_step(), VERTICAL, pool="max", scale="unit").output
    averaged = apply_kernel(vertical_step(), VERTICAL, pool="avg", scale="unit").output
    assert maxed[1:-1, 7].tolist() == [9.0] * 14
    assert maxed[1:-1, 8].tolist() == [9.0] * 14
    assert averaged[1:-1, 7].tolist() == [4.5] * 14
    assert averaged[1:-1, 8].tolist() == [4.5] * 14
    assert maxed[1:-1, 15].tolist() == [0.0] * 14  # max of (0, -9) is 0
    assert averaged[1:-1, 15].tolist() == [-4.5] * 14
    # Top row block: rows 0 and 1 hold 6 and 9 in column 15.
    assert maxed[0, 7].item() == 9.0
    assert averaged[0, 7].item() == (6 + 9 + 0 + 0) / 4


def test_the_same_numbers_as_the_books_code():
    image = torch.randint(
        0, 256, (3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(1)
    )
    img = to_input(image)  # ToTensor then Normalize, as the book's cifar2[0]
    expected_img = (image.float() / 255 - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(
        STD
    ).view(3, 1, 1)
    torch.testing.assert_close(img, expected_img)

    conv = nn.Conv2d(3, 1, kernel_size=3, padding=1)
    with torch.no_grad():
        conv.bias.zero_()
        conv.weight.fill_(1.0 / 9.0)
        blurred = conv(img.unsqueeze(0))
        conv.weight[:] = torch.tensor([[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]])
        edges = conv(img.unsqueeze(0))
    torch.testing.assert_close(apply_kernel(image, BLUR).output, blurred[0, 0])
    torch.testing.assert_close(apply_kernel(image, VERTICAL).output, edges[0, 0])
    pooled = nn.MaxPool2d(2)(blurred)
    torch.testing.assert_close(apply_kernel(image, BLUR, pool="max").output, pooled[0, 0])


def test_value_range_and_bad_options():
    result = apply_kernel(vertical_step(), VERTICAL, scale="unit")
    assert result.value_range == (-9.0, 9.0)
    with pytest.raises(KernelError, match="pool"):
        apply_kernel(constant_image(1), BLUR, pool="median")
    with pytest.raises(KernelError, match="scale"):
        apply_kernel(constant_image(1), BLUR, scale="percent")
    with pytest.raises(KernelError, match="3x3"):
        apply_kernel(constant_image(1), [[1, 2], [3, 4]])
    with pytest.raises(KernelError, match="finite"):
        apply_kernel(constant_image(1), [[float("nan")] * 3] * 3)


# -- the user's kernel --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-1 0 1 -1 0 1 -1 0 1", VERTICAL),
        ("[[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]", VERTICAL),
        ("-1,0,1; -1,0,1; -1,0,1", VERTICAL),
        ("-1 0 1\n-1 0 1\n-1 0 1", VERTICAL),
        ("1/9 " * 9, BLUR),
        ("0 0 0 0 1 0 0 0 0", KERNELS["identity"]),
        ("1e-1 +2 -.5 3. 0 0 0 0 1E1", ((0.1, 2.0, -0.5), (3.0, 0.0, 0.0), (0.0, 0.0, 10.0))),
    ],
)
def test_parse_kernel_reads_nine_numbers(text, expected):
    assert flat(parse_kernel(text)) == pytest.approx(flat(expected))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "type nine numbers"),
        ("   ", "type nine numbers"),
        ("1 2 3 4 5 6 7 8", "exactly nine numbers, got 8"),
        ("1 2 3 4 5 6 7 8 9 10", "exactly nine numbers, got 10"),
        ("1 2 x 4 5 6 7 8 9", "'x' is not a number"),
        ("1 2 3 4 5 6 7 8 nan", "'nan' is not a finite number"),
        ("inf 2 3 4 5 6 7 8 9", "'inf' is not a finite number"),
        ("-Infinity 2 3 4 5 6 7 8 9", "not a finite number"),
        ("1e999 2 3 4 5 6 7 8 9", "too large"),
        ("1/0 2 3 4 5 6 7 8 9", "divides by zero"),
        ("1/2/3 2 3 4 5 6 7 8 9", "not a number"),
        ("0x10 2 3 4 5 6 7 8 9", "not a number"),
    ],
)
def test_parse_kernel_refuses_with_one_line(text, reason):
    with pytest.raises(KernelError, match=reason) as caught:
        parse_kernel(text)
    assert "\n" not in str(caught.value)


def test_format_kernel_reads_back():
    for kernel in KERNELS.values():
        assert parse_kernel(format_kernel(kernel)) == kernel  # 1/9 is written as 1/9
    assert format_kernel(VERTICAL) == "-1 0 1; -1 0 1; -1 0 1"


# -- the learned kernels ------------------------------------------------------------------


def test_kernel_tiles_stretch_each_kernel_to_0_255_as_rgb():
    weights = torch.zeros(2, 3, 3, 3)
    weights[0, 0, 0, 0] = -2.0  # kernel 0: red top-left the smallest ...
    weights[0, 2, 2, 1] = 6.0  # ... blue bottom-middle the largest; the rest 0 -> 2/8
    weights[1] = 0.3  # kernel 1: all equal -> mid grey
    tiles = kernel_tiles(weights)
    assert tiles.shape == (2, 3, 3, 3) and tiles.dtype == torch.uint8  # (K, rows, cols, RGB)
    assert tiles[0, 0, 0, 0] == 0
    assert tiles[0, 2, 1, 2] == 255
    assert tiles[0, 1, 1, 1] == round(255 * 2 / 8)
    assert torch.all(tiles[1] == 128)


def test_learned_kernels_reproduce_the_models_first_feature_maps():
    torch.manual_seed(0)
    model = build_model("net")
    image = torch.randint(
        0, 256, (3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(2)
    )
    kernels = learned_kernels(model)
    assert kernels.layer == "conv1"
    assert len(kernels) == 16 and kernels.weights.shape == (16, 3, 3, 3)
    assert kernels.tiles().shape == (16, 3, 3, 3)
    conv1 = feature_maps(model, image)[0]
    assert conv1.name == "conv1"
    for index in (0, 7, 15):
        applied = apply_kernel(image, kernels.kernel(index), bias=float(kernels.bias[index]))
        torch.testing.assert_close(applied.output, conv1.maps[index], atol=1e-5, rtol=1e-5)
    with pytest.raises(KernelError, match="16"):
        kernels.kernel(16)
    with pytest.raises(KernelError, match="no convolution"):
        learned_kernels(build_model("fc-small"))


# -- feature maps -------------------------------------------------------------------------


def test_feature_maps_of_net_in_order_with_shapes():
    torch.manual_seed(0)
    model = build_model("net")
    model.train()
    layers = feature_maps(model, constant_image(128))
    assert [(layer.name, layer.kind, layer.shape) for layer in layers] == [
        ("conv1", "Conv2d", (16, 32, 32)),
        ("act1", "Tanh", (16, 32, 32)),
        ("pool1", "MaxPool2d", (16, 16, 16)),
        ("conv2", "Conv2d", (8, 16, 16)),
        ("act2", "Tanh", (8, 16, 16)),
        ("pool2", "MaxPool2d", (8, 8, 8)),
    ]
    assert model.training  # the mode is given back
    assert not any(m._forward_hooks for m in model.modules())  # the hooks are gone
    act1 = layers[1]
    low, high = act1.value_range
    assert -1.0 <= low <= high <= 1.0  # tanh
    assert act1.value_range == (float(act1.maps.min()), float(act1.maps.max()))
    assert act1.channel_range(3) == (float(act1.maps[3].min()), float(act1.maps[3].max()))
    assert act1.channel_ranges()[3] == pytest.approx(act1.channel_range(3))
    # tanh of conv1 is act1; pool1 is the 2x2 max of act1.
    torch.testing.assert_close(act1.maps, torch.tanh(layers[0].maps))
    torch.testing.assert_close(layers[2].maps, nn.functional.max_pool2d(act1.maps, 2))


def test_feature_maps_of_other_models():
    depth = feature_maps(build_model("net-depth"), constant_image(10))
    assert [layer.shape for layer in depth if layer.kind == "MaxPool2d"] == [
        (32, 16, 16),
        (16, 8, 8),
        (16, 4, 4),
    ]
    batchnorm = feature_maps(build_model("net-batchnorm"), constant_image(10))
    assert [layer.name for layer in batchnorm][:3] == ["conv1", "conv1_batchnorm", "act1"]
    deep = feature_maps(build_model("net-res-deep", n_blocks=2), constant_image(10))
    assert [layer.name for layer in deep] == [
        "conv1", "act1", "pool1",
        "resblocks.0.conv", "resblocks.0.batch_norm", "resblocks.0.act", "resblocks.0",
        "resblocks.1.conv", "resblocks.1.batch_norm", "resblocks.1.act", "resblocks.1",
        "pool2",
    ]  # fmt: skip
    only_convs = feature_maps(build_model("net"), constant_image(10), kinds=("Conv2d",))
    assert [layer.label for layer in only_convs] == [
        "conv1 Conv2d (16, 32, 32)",
        "conv2 Conv2d (8, 16, 16)",
    ]


def test_feature_maps_refuse_what_they_cannot_show():
    with pytest.raises(FeatureError, match="no convolution"):
        feature_maps(build_model("fc-small"), constant_image(1))
    with pytest.raises(FeatureError, match="uint8 image shaped"):
        feature_maps(build_model("net"), torch.zeros(3, 32, 32))
    with pytest.raises(FeatureError, match="uint8 image shaped"):
        feature_maps(build_model("net"), torch.zeros(3, 28, 28, dtype=torch.uint8))


def test_precise_runs_agree_with_float32_and_are_float64():
    torch.manual_seed(0)
    model = build_model("net")
    image = torch.randint(
        0, 256, (3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(3)
    )
    plain = feature_maps(model, image)
    precise = feature_maps(model, image, precise=True)
    assert next(model.parameters()).dtype == torch.float32  # the model itself is untouched
    for a, b in zip(plain, precise, strict=True):
        assert (a.name, a.shape) == (b.name, b.shape)
        assert a.maps.dtype == torch.float32 and b.maps.dtype == torch.float64
        torch.testing.assert_close(a.maps.double(), b.maps, atol=1e-5, rtol=1e-5)
    result = apply_kernel(image, VERTICAL, pool="avg", precise=True)
    assert result.output.dtype == torch.float64
    torch.testing.assert_close(
        result.output, apply_kernel(image, VERTICAL, pool="avg").output.double(), atol=1e-5, rtol=0
    )
    # Integer sums stay exact in both.
    assert torch.equal(
        apply_kernel(vertical_step(), VERTICAL, scale="unit", precise=True).output,
        apply_kernel(vertical_step(), VERTICAL, scale="unit").output.double(),
    )


def test_layer_details_are_short():
    layers = feature_maps(build_model("net"), constant_image(10))
    assert [layer.detail for layer in layers] == [
        "Conv2d 3->16, 3x3, padding 1",
        "Tanh",
        "MaxPool2d 2",
        "Conv2d 16->8, 3x3, padding 1",
        "Tanh",
        "MaxPool2d 2",
    ]
    deep = feature_maps(build_model("net-res-deep", n_blocks=1), constant_image(10))
    assert deep[3].detail == "Conv2d 32->32, 3x3, padding 1, no bias"
