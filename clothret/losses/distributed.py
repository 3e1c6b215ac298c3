"""Gather a batch from every process for cross-device mining (``loss.cross_device: true``).

Like pytorch-metric-learning's ``DistributedLossWrapper``, every rank sees the embeddings and
labels of all ranks, but only its own slice carries gradient: the gathered copies of the other
ranks are constants here and get their gradient on their own rank, where they are the local
slice. Losses mine with local anchors against the global batch, so each rank's loss is the mean
over its own anchors and DDP's gradient averaging keeps the scale of a one-process run on the
concatenated batch. The library wrapper is not used because it takes pytorch-metric-learning
loss objects and labels only, while quadruplet mining also needs category and domain labels.
Ranks may hold batches of different sizes (a last, smaller batch): rows are padded to the
largest size for ``all_gather`` and the padding is dropped.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor


def is_distributed() -> bool:
    """Whether ``torch.distributed`` is available and initialised with more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _all_gather_padded(x: Tensor, sizes: list[int]) -> list[Tensor]:
    """``all_gather`` of ``x`` (rows may differ per rank), one detached tensor per rank."""
    longest = max(sizes)
    padded = x.detach()
    if len(x) < longest:
        pad = x.new_zeros((longest - len(x), *x.shape[1:]))
        padded = torch.cat([padded, pad])
    out = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(out, padded.contiguous())
    return [t[:n] for t, n in zip(out, sizes, strict=True)]


def gather_batch(embeddings: Tensor, *labels: Tensor) -> tuple[Tensor, list[Tensor], Tensor]:
    """Concatenate ``embeddings`` and each label tensor over all ranks, in rank order.

    Returns:
        ``(all_embeddings, all_labels, local)``: the gathered tensors, where the rows of this
        rank are ``local`` (an index tensor) and are the original, gradient-carrying embeddings.
        Without an initialised process group (or with one process) the inputs come back as they
        are with ``local = arange(B)``.
    """
    device = embeddings.device
    n = len(embeddings)
    if not is_distributed():
        return embeddings, list(labels), torch.arange(n, device=device)
    rank, world = dist.get_rank(), dist.get_world_size()
    size = torch.tensor([n], device=device, dtype=torch.long)
    sizes_t = [torch.empty_like(size) for _ in range(world)]
    dist.all_gather(sizes_t, size)
    sizes = [int(s) for s in sizes_t]
    parts = _all_gather_padded(embeddings, sizes)
    parts[rank] = embeddings
    gathered = []
    for label in labels:
        # Labels travel as int64: gloo does not gather bool tensors.
        label_parts = _all_gather_padded(label.long(), sizes)
        gathered.append(torch.cat(label_parts).to(label.dtype))
    offset = sum(sizes[:rank])
    return torch.cat(parts), gathered, torch.arange(offset, offset + n, device=device)
