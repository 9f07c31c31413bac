"""Random streams and fast vectorised sampling shared by the generators."""

from __future__ import annotations

import zlib

import numpy as np


def rng_stream(seed: int, name: str) -> np.random.Generator:
    """An independent, reproducible random stream for one named part of a run.

    Each generator (and each part of one) draws from its own stream, so adding a new source
    generator, or a new draw inside one, does not change what the others produce.
    """
    if seed < 0:
        raise ValueError(f"seed must be zero or positive, not {seed}")
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(name.encode())]))


class TableSampler:
    """Draw from one of many discrete distributions, chosen per draw, in one vectorised call.

    ``weights`` has one row per distribution (key) and one column per outcome. ``sample(rng,
    keys)`` returns, for each key, a column index drawn with that row's probabilities. The rows'
    cumulative sums are laid end to end, row k shifted by k, so one ``searchsorted`` serves all.
    A row of zeros is allowed (it must simply never be asked for).
    """

    def __init__(self, weights: np.ndarray):
        w = np.asarray(weights, dtype=float)
        if w.ndim != 2 or (w < 0).any():
            raise ValueError("weights must be a 2-D array of non-negative numbers")
        totals = w.sum(axis=1, keepdims=True)
        w = np.where(totals > 0, w / np.where(totals > 0, totals, 1), 1.0 / w.shape[1])
        cdf = np.cumsum(w, axis=1)
        cdf[:, -1] = 1.0
        self.width = w.shape[1]
        self.empty_rows = np.flatnonzero(totals[:, 0] == 0)
        self._flat = (cdf + np.arange(w.shape[0])[:, None]).ravel()

    def sample(self, rng: np.random.Generator, keys: np.ndarray) -> np.ndarray:
        keys = np.asarray(keys, dtype=np.int64)
        pos = np.searchsorted(self._flat, keys + rng.random(keys.size), side="right")
        return np.minimum(pos - keys * self.width, self.width - 1)
