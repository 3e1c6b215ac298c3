"""EmbeddingHead against the formula in numpy: linear → BN (eval) → ReLU → L2."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from clothret import keys
from clothret.errors import ConfigError
from clothret.heads import EmbeddingHead


def _randomize_bn(bn: torch.nn.BatchNorm1d) -> None:
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(bn.num_features, generator=gen))
        bn.running_var.copy_(torch.rand(bn.num_features, generator=gen) + 0.5)
        bn.weight.copy_(torch.randn(bn.num_features, generator=gen))
        bn.bias.copy_(torch.randn(bn.num_features, generator=gen))


@pytest.mark.parametrize(
    ("normalize", "batchnorm", "activation"),
    [(True, False, "none"), (True, True, "none"), (False, False, "relu"), (False, True, "relu")],
)
def test_matches_numpy_formula(normalize, batchnorm, activation):
    torch.manual_seed(0)
    head = EmbeddingHead(
        in_dim=10, dim=6, normalize=normalize, batchnorm=batchnorm, activation=activation
    ).eval()
    if batchnorm:
        _randomize_bn(head.bn)
    x = torch.randn(7, 10)
    with torch.no_grad():
        out = head(x).numpy()
    w, b = head.linear.weight.detach().numpy(), head.linear.bias.detach().numpy()
    expected = np.zeros((7, 6))
    for i in range(7):
        for j in range(6):
            v = float(np.dot(x[i].numpy(), w[j]) + b[j])
            if batchnorm:
                bn = head.bn
                v = (v - bn.running_mean[j].item()) / np.sqrt(bn.running_var[j].item() + bn.eps)
                v = v * bn.weight[j].item() + bn.bias[j].item()
            if activation == "relu":
                v = max(v, 0.0)
            expected[i, j] = v
    if normalize:
        expected /= np.sqrt((expected**2).sum(axis=1, keepdims=True))
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    assert head.out_dim == 6 and head.output_key == keys.EMBEDDING
    assert head.input == keys.FEATURES


def test_input_and_errors():
    assert EmbeddingHead(in_dim=4, input=keys.HASH).input == keys.HASH
    with pytest.raises(ConfigError, match="activation 'gelu'"):
        EmbeddingHead(in_dim=4, activation="gelu")
    with pytest.raises(ConfigError, match="reads vectors"):
        EmbeddingHead(in_dim=[4, 8], input=keys.FEATURE_MAPS)
    with pytest.raises(ConfigError, match="'logits' is not an output"):
        EmbeddingHead(in_dim=4, input="logits")
