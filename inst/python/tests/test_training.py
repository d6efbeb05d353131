"""Length-bucketed batching: every row once per epoch, similar lengths per batch, a new order each epoch,
and predictions that do not depend on padding or batch order."""

import numpy as np

from bertr.training import bucketed_batches


def test_bucketed_batches_cover_every_row_once_and_group_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 129, size=1000)
    epoch1 = bucketed_batches(lengths, 32, np.random.default_rng(1))
    rows = np.concatenate(epoch1)
    assert sorted(rows.tolist()) == list(range(1000))
    spread = np.mean([lengths[b].max() - lengths[b].min() for b in epoch1])
    random_spread = np.mean([lengths[b].max() - lengths[b].min() for b in np.array_split(rng.permutation(1000), 32)])
    assert spread < random_spread / 4  # rows of a batch have similar lengths
    shared = np.random.default_rng(1)
    first, second = bucketed_batches(lengths, 32, shared), bucketed_batches(lengths, 32, shared)
    assert not all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))  # a new order every epoch
    assert [len(b) for b in bucketed_batches(lengths, 32, None)][:-1] == [32] * 31
