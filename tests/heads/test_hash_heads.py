"""Hash heads: activations against the formulas, binarisation thresholds."""

from __future__ import annotations

import numpy as np
import torch

from clothret import keys
from clothret.heads import LatentHashHead, TanhHashHead


def _linear(head, x):
    w, b = head.linear.weight.detach().numpy(), head.linear.bias.detach().numpy()
    return x.numpy() @ w.T + b


def test_latent_hash_is_sigmoid_of_linear():
    torch.manual_seed(0)
    head = LatentHashHead(in_dim=12, bits=16, input=keys.EMBEDDING)
    x = torch.randn(5, 12)
    with torch.no_grad():
        h = head(x).numpy()
    np.testing.assert_allclose(h, 1.0 / (1.0 + np.exp(-_linear(head, x))), rtol=1e-5)
    assert head.out_dim == 16 and head.output_key == keys.HASH and head.input == keys.EMBEDDING
    assert ((h >= 0) & (h <= 1)).all()


def test_tanh_hash_is_tanh_of_linear():
    torch.manual_seed(1)
    head = TanhHashHead(in_dim=12, bits=8)
    x = torch.randn(5, 12)
    with torch.no_grad():
        h = head(x).numpy()
    np.testing.assert_allclose(h, np.tanh(_linear(head, x)), rtol=1e-5, atol=1e-6)
    assert head.input == keys.FEATURES


def test_binarize_thresholds():
    h = torch.tensor([[0.0, 0.49, 0.5, 0.51, 1.0]])
    codes = LatentHashHead(in_dim=2, bits=5).binarize(h)
    assert codes.dtype == torch.bool
    assert codes.tolist() == [[False, False, False, True, True]]
    t = torch.tensor([[-1.0, -0.01, 0.0, 0.01, 1.0]])
    assert TanhHashHead(in_dim=2, bits=5).binarize(t).tolist() == [
        [False, False, False, True, True]
    ]


def test_codes_agree_between_heads_with_same_weights():
    # sigmoid(z) > 0.5 exactly when tanh(z) > 0: both code the sign of the pre-activation.
    torch.manual_seed(2)
    latent, tanh = LatentHashHead(in_dim=6, bits=32), TanhHashHead(in_dim=6, bits=32)
    tanh.load_state_dict(latent.state_dict())
    x = torch.randn(20, 6)
    with torch.no_grad():
        a, b = latent.binarize(latent(x)), tanh.binarize(tanh(x))
        sign = torch.from_numpy(_linear(latent, x) > 0)
    assert torch.equal(a, b) and torch.equal(a, sign)
