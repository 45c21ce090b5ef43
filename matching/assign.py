"""Capacity-aware global assignment of requests to mentors.

The problem is a maximum-weight b-matching: each request gets at most one mentor, each mentor
at most her remaining capacity. Expanding each mentor into one column per free slot turns it
into a bipartite matching, solved exactly by SciPy's sparse LAPJV
(`min_weight_full_bipartite_matching`). Only candidate edges are given (each request's
top-K mentors above the minimum score), so the graph stays sparse: 5,000 requests x 30
candidates x 5 slots is 750,000 edges rather than 25 million.

A full matching must exist for that solver, so every request also gets a private "stay
unassigned" column. With cost(edge) = C - score and cost(unassigned) = C, every request
pays C either way minus the score it gets, so the minimum cost is the maximum total score.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import min_weight_full_bipartite_matching


def assign_with_capacity(request_rows: np.ndarray, mentor_rows: np.ndarray,
                         scores: np.ndarray, remaining: np.ndarray,
                         n_requests: int) -> dict[int, tuple[int, float]]:
    """Best total-score assignment over the candidate edges (request_rows[i], mentor_rows[i],
    scores[i]), giving mentor j at most remaining[j] requests.

    Returns {request row: (mentor row, score)} for the requests that got a mentor.
    """
    request_rows = np.asarray(request_rows, dtype=np.int64)
    mentor_rows = np.asarray(mentor_rows, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    keep = remaining[mentor_rows] > 0
    request_rows, mentor_rows, scores = request_rows[keep], mentor_rows[keep], scores[keep]
    if len(scores) == 0:
        return {}

    # A mentor needs no more slots than the requests that could go to her.
    demand = np.bincount(mentor_rows, minlength=len(remaining))
    slots = np.minimum(remaining, demand).astype(np.int64)
    first_slot = np.concatenate([[0], np.cumsum(slots)[:-1]])
    n_slots = int(slots.sum())

    # Each edge becomes one edge per slot of its mentor.
    edge_slots = slots[mentor_rows]
    rows = np.repeat(request_rows, edge_slots)
    offsets = np.arange(edge_slots.sum()) - np.repeat(np.cumsum(edge_slots) - edge_slots,
                                                      edge_slots)
    cols = np.repeat(first_slot[mentor_rows], edge_slots) + offsets
    costs = np.repeat(scores, edge_slots)
    ceiling = 1.0 + max(float(scores.max()), 0.0)
    costs = ceiling - costs

    dummy_rows = np.arange(n_requests, dtype=np.int64)
    graph = sp.csr_matrix(
        (np.concatenate([costs, np.full(n_requests, ceiling)]),
         (np.concatenate([rows, dummy_rows]),
          np.concatenate([cols, n_slots + dummy_rows]))),
        shape=(n_requests, n_slots + n_requests))
    matched_rows, matched_cols = min_weight_full_bipartite_matching(graph)

    slot_owner = np.repeat(np.arange(len(remaining)), slots)
    edge_score = {(int(r), int(m)): float(s)
                  for r, m, s in zip(request_rows, mentor_rows, scores, strict=True)}
    result = {}
    for r, c in zip(matched_rows, matched_cols, strict=True):
        if c < n_slots:
            m = int(slot_owner[c])
            result[int(r)] = (m, edge_score[(int(r), m)])
    return result
