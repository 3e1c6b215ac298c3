"""Pure loss formulas on explicit tuples (DESIGN §5): no mining, no batch dicts, no state.

Distances are Euclidean (not squared) unless stated. ``reduction`` is ``"mean"`` (default),
``"sum"`` or ``"none"`` (one value per tuple or sample). An empty set of tuples reduces to a zero
that keeps the inputs' autograd graph, so a batch without a valid tuple never gives NaN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from clothret.errors import ConfigError

REDUCTIONS = ("mean", "sum", "none")
WEIGHT_SCHEMES = ("ratio", "smoothed_ratio", "inverse_smoothed", "uniform")


def euclidean(x: Tensor, y: Tensor) -> Tensor:
    """Row-wise Euclidean distance ``‖x_i − y_i‖₂``; its gradient at a zero distance is zero."""
    return torch.linalg.vector_norm(x - y, dim=-1)


def reduce(losses: Tensor, reduction: str = "mean") -> Tensor:
    """Apply ``reduction`` to per-tuple losses; the mean of no tuples is a zero with grad."""
    if reduction == "none":
        return losses
    if reduction == "sum" or losses.numel() == 0:
        return losses.sum()
    if reduction == "mean":
        return losses.mean()
    raise ConfigError(f"Unknown reduction {reduction!r}; use one of {', '.join(REDUCTIONS)}.")


def triplet(
    anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 0.2, reduction: str = "mean"
) -> Tensor:
    """Triplet margin loss ``[d(a, p) − d(a, n) + margin]₊`` per triplet (rows of ``[N, E]``)."""
    losses = F.relu(euclidean(anchor, positive) - euclidean(anchor, negative) + margin)
    return reduce(losses, reduction)


def check_quadruplet_margins(margin_id: float, margin_class: float) -> None:
    """ClothingNet requires ``m1 < m2``: items differ less than categories do."""
    if not margin_id < margin_class:
        raise ConfigError(
            f"quadruplet needs margin_id < margin_class (got {margin_id} and {margin_class}): "
            "items of one category differ less than categories do; lower margin_id or raise "
            "margin_class."
        )


def quadruplet(
    anchor: Tensor,
    positive: Tensor,
    negative1: Tensor,
    negative2: Tensor,
    margin_id: float = 0.2,
    margin_class: float = 0.4,
    weight_id: float = 1.0,
    weight_class: float = 1.0,
    reduction: str = "mean",
) -> Tensor:
    """ClothingNet quadruplet loss (eq. 7) per quadruplet.

    ``weight_id·[d(a,p) + margin_id − d(a,n1)]₊ + weight_class·[d(a,n1) + margin_class − d(a,n2)]₊``
    where ``n1`` shares the anchor's category but not its item and ``n2`` shares neither.
    """
    check_quadruplet_margins(margin_id, margin_class)
    d_an1 = euclidean(anchor, negative1)
    loss_id = F.relu(euclidean(anchor, positive) + margin_id - d_an1)
    loss_class = F.relu(d_an1 + margin_class - euclidean(anchor, negative2))
    return reduce(weight_id * loss_id + weight_class * loss_class, reduction)


def contrastive_hash(
    h1: Tensor,
    h2: Tensor,
    similar: Tensor,
    margin: float | None = None,
    alpha: float = 0.01,
    reduction: str = "mean",
) -> Tensor:
    """Deep-supervised-hashing contrastive loss with the ±1 regulariser, per pair.

    ``½·s·‖h1−h2‖² + ½·(1−s)·max(margin − ‖h1−h2‖², 0) + alpha·(‖|h1|−1‖₁ + ‖|h2|−1‖₁)``
    with ``s = 1`` for a similar pair. Distances are squared here, as in the paper; the default
    margin is ``2·bits``. The regulariser pulls real-valued codes towards ±1 so that ``sign(h)``
    loses little; it assumes codes in [−1, 1] (map sigmoid codes by ``2h − 1`` first).

    Args:
        h1, h2: real-valued codes ``[P, bits]`` of the two sides of each pair.
        similar: ``[P]`` bool or 0/1 tensor, 1 for a similar pair.
        margin: margin on the squared distance; ``None`` means ``2·bits``.
        alpha: weight of the regulariser.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
    """
    margin = 2.0 * h1.shape[-1] if margin is None else margin
    s = similar.to(h1.dtype)
    sq = (h1 - h2).pow(2).sum(dim=-1)
    contrast = 0.5 * s * sq + 0.5 * (1 - s) * F.relu(margin - sq)
    regular = (h1.abs() - 1).abs().sum(dim=-1) + (h2.abs() - 1).abs().sum(dim=-1)
    return reduce(contrast + alpha * regular, reduction)


def weighted_multilabel(
    logits: Sequence[Tensor],
    targets: Sequence[Tensor],
    gammas: Sequence[float] | Tensor,
    reduction: str = "mean",
) -> Tensor:
    """Task-weighted sigmoid multi-label loss of the multi-weight CNN (eqs. 1–3).

    ``Σ_t γ_t · (1/B) Σ_b Σ_m BCEWithLogits(logit_btm, target_btm)``. Targets may be multi-hot; a
    target of −1 marks a missing label and contributes nothing (the ``1/B`` stays the batch size,
    as in eq. 1). ``"sum"`` drops the ``1/B``; ``"none"`` gives the per-sample values ``[B]``
    whose mean is the ``"mean"`` value.

    Args:
        logits: one ``[B, M_t]`` tensor per task t.
        targets: matching ``[B, M_t]`` tensors with values in {0, 1} or −1 (missing).
        gammas: one weight per task.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
    """
    if not len(logits) == len(targets) == len(gammas):
        raise ValueError(
            f"weighted_multilabel needs one logits, targets and gamma per task; got "
            f"{len(logits)}, {len(targets)} and {len(gammas)}."
        )
    if reduction not in REDUCTIONS:
        raise ConfigError(f"Unknown reduction {reduction!r}; use one of {', '.join(REDUCTIONS)}.")
    per_sample = logits[0].new_zeros(logits[0].shape[0]) if logits else torch.zeros(0)
    for logit, target, gamma in zip(logits, targets, gammas, strict=True):
        known = (target >= 0).to(logit.dtype)
        bce = F.binary_cross_entropy_with_logits(logit, target.clamp(min=0), reduction="none")
        per_sample = per_sample + gamma * (bce * known).sum(dim=-1)
    return reduce(per_sample, reduction)


def task_weights(
    counts: Sequence[float] | Mapping[str, float] | Tensor,
    scheme: str = "inverse_smoothed",
    c: float = 3.0,
) -> Tensor:
    """Per-task loss weights γ_t from the number of labelled samples per task.

    Reading of the multi-weight CNN paper: ratios ``r_t = n_t / max(n)`` (Table II "proportion"),
    smoothed ratios ``w_t = max(r_t, mean(r)/c)`` (eq. 11, c = 3; on Table II the floor
    ``mean(r)/c`` is ≈ 0.113, the paper's "0.11"). The paper sets γ_t from the proportion and
    notes that the plain ratio "excessively boosts" rare tasks, which only holds for a weight that
    grows as the ratio falls; the smoothing then bounds that boost. ``"inverse_smoothed"`` (the
    default) therefore returns ``1/w``: rare tasks boosted, but at most ``c/mean(r)`` times the
    most frequent one. ``"ratio"`` returns ``r``, ``"smoothed_ratio"`` returns ``w`` (the literal
    reading, rare tasks damped) and ``"uniform"`` returns ones.

    Args:
        counts: labelled samples per task (a sequence, a 1-d tensor, or a task→count mapping
            whose values are used in iteration order).
        scheme: ``"ratio"``, ``"smoothed_ratio"``, ``"inverse_smoothed"`` or ``"uniform"``.
        c: smoothing constant of eq. 11 (> 0).

    Returns:
        A float64 tensor with one weight per task, in the order of ``counts``.
    """
    if isinstance(counts, Mapping):
        counts = list(counts.values())
    n = torch.as_tensor(counts, dtype=torch.float64).reshape(-1)
    if scheme not in WEIGHT_SCHEMES:
        raise ConfigError(f"Unknown task weight scheme {scheme!r}; use one of {WEIGHT_SCHEMES}.")
    if scheme == "uniform":
        return torch.ones_like(n)
    if n.numel() == 0 or (n < 0).any() or n.max() <= 0:
        raise ConfigError(
            f"task_weights needs non-negative label counts with at least one positive, got "
            f"{n.tolist()}; check the training split has labelled attributes."
        )
    if c <= 0:
        raise ConfigError(f"task_weights needs c > 0, got {c}.")
    r = n / n.max()
    if scheme == "ratio":
        return r
    w = torch.clamp(r, min=float(r.mean()) / c)
    return w if scheme == "smoothed_ratio" else 1.0 / w
