"""FusionHead: pool → project → concat → L2 by hand, PCA against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from clothret import keys
from clothret.errors import ClothretError, ConfigError
from clothret.heads import FusionHead

IN_DIM = [6, 5, 7]


def _maps(n: int, seed: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    # Low-rank structure so the principal axes are well separated.
    basis = [torch.randn(3, c, generator=gen) for c in IN_DIM]
    codes = torch.randn(n, 3, generator=gen) * torch.tensor([3.0, 2.0, 1.0])
    return [
        (codes @ b)[:, :, None, None] + 0.1 * torch.randn(n, c, 3, 2, generator=gen)
        for b, c in zip(basis, IN_DIM, strict=True)
    ]


def _pool_by_loops(maps: list[torch.Tensor]) -> list[np.ndarray]:
    pooled = []
    for m in maps:
        a = m.numpy()
        out = np.zeros(a.shape[:2])
        for i in range(a.shape[0]):
            for c in range(a.shape[1]):
                out[i, c] = sum(a[i, c, y, x] for y in range(a.shape[2]) for x in range(a.shape[3]))
                out[i, c] /= a.shape[2] * a.shape[3]
        pooled.append(out)
    return pooled


def test_linear_fusion_matches_manual_computation():
    torch.manual_seed(0)
    head = FusionHead(in_dim=IN_DIM, mid_dim=4, high_dim=3)
    maps = _maps(5, seed=1)
    with torch.no_grad():
        out = head(maps).numpy()
    p0, p1, p2 = _pool_by_loops(maps)
    mid = np.concatenate([p0, p1], axis=1) @ head.mid.weight.detach().numpy().T
    mid += head.mid.bias.detach().numpy()
    high = p2 @ head.high.weight.detach().numpy().T + head.high.bias.detach().numpy()
    fused = np.concatenate([mid, high], axis=1)
    fused /= np.linalg.norm(fused, axis=1, keepdims=True)
    np.testing.assert_allclose(out, fused, rtol=1e-4, atol=1e-6)
    assert out.shape == (5, 7) and head.out_dim == 7
    assert head.input == keys.FEATURE_MAPS and head.output_key == keys.EMBEDDING


def test_pca_fusion_matches_sklearn_up_to_sign():
    head = FusionHead(in_dim=IN_DIM, mid_dim=4, high_dim=3, projection="pca", normalize=False)
    with pytest.raises(ClothretError, match="not fitted"):
        head(_maps(2, seed=0))
    batches = [_maps(10, seed=s) for s in range(4)]
    head.fit(batches)
    pooled = [np.concatenate(parts) for parts in zip(*map(_pool_by_loops, batches), strict=True)]
    test_maps = _maps(6, seed=9)
    with torch.no_grad():
        out = head(test_maps).numpy()
    test_pooled = _pool_by_loops(test_maps)
    cases = [
        (
            np.concatenate(pooled[:2], axis=1),
            np.concatenate(test_pooled[:2], axis=1),
            4,
            head.mid,
            out[:, :4],
        ),
        (pooled[2], test_pooled[2], 3, head.high, out[:, 4:]),
    ]
    for train, test, k, projection, got in cases:
        pca = PCA(n_components=k, svd_solver="full").fit(train)
        signs = np.sign(np.sum(projection.components.numpy() * pca.components_, axis=1))
        np.testing.assert_allclose(
            projection.components.numpy(), pca.components_ * signs[:, None], atol=1e-4
        )
        np.testing.assert_allclose(projection.mean.numpy(), pca.mean_, atol=1e-5)
        np.testing.assert_allclose(got, pca.transform(test) * signs, rtol=1e-4, atol=1e-4)


def test_pca_state_survives_a_checkpoint():
    head = FusionHead(in_dim=IN_DIM, mid_dim=4, high_dim=3, projection="pca")
    head.fit([_maps(20, seed=3)])
    restored = FusionHead(in_dim=IN_DIM, mid_dim=4, high_dim=3, projection="pca")
    assert {"mid.components", "mid.mean", "mid.fitted", "high.components"} <= set(head.state_dict())
    restored.load_state_dict(head.state_dict())
    maps = _maps(4, seed=4)
    with torch.no_grad():
        torch.testing.assert_close(restored(maps), head(maps))
        np.testing.assert_allclose(torch.linalg.norm(head(maps), dim=1).numpy(), 1.0, rtol=1e-5)


def test_errors():
    with pytest.raises(ConfigError, match="at least two feature maps"):
        FusionHead(in_dim=[2048])
    with pytest.raises(ConfigError, match="at least two feature maps"):
        FusionHead(in_dim=2048)
    with pytest.raises(ConfigError, match="projection 'svd'"):
        FusionHead(in_dim=IN_DIM, projection="svd")
    head = FusionHead(in_dim=IN_DIM, mid_dim=4, high_dim=3, projection="pca")
    with pytest.raises(ClothretError, match="at least 4 samples"):
        head.fit([_maps(3, seed=0)])
    with pytest.raises(ConfigError, match="only for projection: pca"):
        FusionHead(in_dim=IN_DIM).fit([_maps(3, seed=0)])
    with pytest.raises(ConfigError, match=r"built for feature maps with \[6, 5, 7\]"):
        FusionHead(in_dim=IN_DIM)(_maps(2, seed=0)[:2])
