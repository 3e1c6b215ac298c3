"""MultiTaskHead: one classifier per group, category conditioning, sigmoid/softmax groups."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from clothret import keys
from clothret.errors import ConfigError
from clothret.heads import MultiTaskHead

DIMS = {"color": 5, "sleeve": 3, "type": 2}


def _linear(layer, x: np.ndarray) -> np.ndarray:
    return x @ layer.weight.detach().numpy().T + layer.bias.detach().numpy()


def test_one_classifier_per_group():
    torch.manual_seed(0)
    head = MultiTaskHead(in_dim=8, attribute_dims=DIMS).eval()
    x = torch.randn(4, 8)
    with torch.no_grad():
        out = head(x)
    assert list(out) == list(DIMS)
    for i, (task, m) in enumerate(DIMS.items()):
        assert out[task].shape == (4, m)
        np.testing.assert_allclose(
            out[task].numpy(), _linear(head.classifiers[i], x.numpy()), rtol=1e-5, atol=1e-6
        )
    assert head.out_dim == 10 and head.output_key == keys.ATTRIBUTE_LOGITS


def test_category_conditioning_concatenates_softmax():
    torch.manual_seed(1)
    head = MultiTaskHead(
        in_dim=8, attribute_dims=DIMS, condition_on_category=True, num_categories=4
    ).eval()
    x, cat = torch.randn(3, 8), torch.randn(3, 4)
    with torch.no_grad():
        out = head(x, category_logits=cat)
    c = cat.numpy()
    probs = np.exp(c) / np.exp(c).sum(axis=1, keepdims=True)
    joined = np.concatenate([x.numpy(), probs], axis=1)
    for i, task in enumerate(DIMS):
        assert head.classifiers[i].in_features == 12
        np.testing.assert_allclose(
            out[task].numpy(), _linear(head.classifiers[i], joined), rtol=1e-5, atol=1e-6
        )
    with pytest.raises(ConfigError, match="needs the category logits"):
        head(x)


@pytest.mark.parametrize("detach", [False, True])
def test_gradient_reaches_category_logits_unless_detached(detach):
    head = MultiTaskHead(
        in_dim=8,
        attribute_dims=DIMS,
        condition_on_category=True,
        num_categories=4,
        detach_category=detach,
    )
    cat = torch.randn(3, 4, requires_grad=True)
    out = head(torch.randn(3, 8), category_logits=cat)
    total = sum(v.square().sum() for v in out.values())
    total.backward()
    if detach:
        assert cat.grad is None
    else:
        assert cat.grad is not None and cat.grad.abs().sum() > 0


def test_multilabel_groups_and_probabilities():
    head = MultiTaskHead(in_dim=4, attribute_dims=DIMS, multilabel=["color"])
    logits = {t: torch.randn(2, m) for t, m in DIMS.items()}
    probs = head.probabilities(logits)
    torch.testing.assert_close(probs["color"], 1 / (1 + torch.exp(-logits["color"])))
    e = torch.exp(logits["sleeve"])
    torch.testing.assert_close(probs["sleeve"], e / e.sum(dim=1, keepdim=True))
    assert MultiTaskHead(in_dim=4, attribute_dims=DIMS).multilabel == tuple(DIMS)
    assert MultiTaskHead(in_dim=4, attribute_dims=DIMS, multilabel=False).multilabel == ()


def test_errors():
    with pytest.raises(ConfigError, match="unknown attribute groups \\['colour'\\]"):
        MultiTaskHead(in_dim=4, attribute_dims=DIMS, multilabel=["colour"])
    with pytest.raises(ConfigError, match="needs attribute_dims"):
        MultiTaskHead(in_dim=4, attribute_dims={})
    with pytest.raises(ConfigError, match="needs num_categories"):
        MultiTaskHead(in_dim=4, attribute_dims=DIMS, condition_on_category=True)
