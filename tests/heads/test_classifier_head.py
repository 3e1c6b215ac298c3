"""ClassifierHead: logits = x W^T + b, dropout in training only, num_categories required."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from clothret import keys
from clothret.errors import ConfigError
from clothret.heads import ClassifierHead


def test_logits_match_formula():
    torch.manual_seed(0)
    head = ClassifierHead(in_dim=9, num_categories=4, input=keys.HASH).eval()
    x = torch.randn(3, 9)
    with torch.no_grad():
        logits = head(x).numpy()
    w, b = head.linear.weight.detach().numpy(), head.linear.bias.detach().numpy()
    expected = np.array([[x[i].numpy() @ w[j] + b[j] for j in range(4)] for i in range(3)])
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)
    assert head.out_dim == 4 and head.output_key == keys.CATEGORY_LOGITS
    assert head.input == keys.HASH


def test_dropout_only_in_training():
    torch.manual_seed(0)
    head = ClassifierHead(in_dim=50, num_categories=2, dropout=0.5)
    x = torch.ones(4, 50)
    with torch.no_grad():
        eval_out = head.eval()(x)
        train_out = head.train()(x)
        expected = head.linear(x)
    torch.testing.assert_close(eval_out, expected)
    assert not torch.allclose(train_out, expected)


def test_needs_num_categories():
    with pytest.raises(ConfigError, match="num_categories"):
        ClassifierHead(in_dim=4)


def test_cosine_classifier_matches_formula_and_ignores_input_norm():
    torch.manual_seed(0)
    head = ClassifierHead(in_dim=6, num_categories=3, cosine_scale=16.0).eval()
    assert head.linear.bias is None
    x = torch.randn(5, 6)
    with torch.no_grad():
        logits = head(x).numpy()
        scaled = head(7.0 * x).numpy()
    w = head.linear.weight.detach().numpy()
    xs = x.numpy()
    expected = np.array(
        [
            [16.0 * xs[i] @ w[j] / (np.linalg.norm(xs[i]) * np.linalg.norm(w[j])) for j in range(3)]
            for i in range(5)
        ]
    )
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(scaled, logits, rtol=1e-5, atol=1e-5)
    assert np.abs(logits).max() <= 16.0 + 1e-5


def test_cosine_scale_must_be_positive():
    with pytest.raises(ConfigError, match="cosine_scale"):
        ClassifierHead(in_dim=4, num_categories=2, cosine_scale=0.0)
