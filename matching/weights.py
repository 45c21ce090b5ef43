"""Per-factor weights learned from outcomes, shrunk towards fixed prior weights.

The success model is ``P(success) = sigmoid(b + x . beta)`` with ``beta = scale * prior +
delta``: ``scale`` and ``b`` are free, ``delta`` pays an L2 penalty ``|delta|^2 / (2 C n)``.
With few outcomes ``delta`` stays near 0 and the learned weights are the prior's; with many
it follows the data. Weights are ``max(beta, 0)`` scaled to sum to 1, so scores keep the
default scale. A held-out split (by request) decides whether they beat the prior.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from sklearn.metrics import log_loss, roc_auc_score


@dataclass
class PriorWeights:
    weights: np.ndarray
    better: bool
    report: dict = field(default_factory=dict)
    coef_: np.ndarray | None = None


def _fit(x: np.ndarray, y: np.ndarray, prior: np.ndarray, C: float) -> np.ndarray:
    n, d = x.shape
    strength = 1.0 / (2.0 * C * max(n, 1))

    def loss(params):
        b, scale, delta = params[0], params[1], params[2:]
        beta = scale * prior + delta
        z = b + x @ beta
        # log(1 + e^z) - y z, stably
        value = np.mean(np.logaddexp(0.0, z) - y * z) + strength * delta @ delta * n / max(n, 1)
        p = 1.0 / (1.0 + np.exp(-z))
        g = (p - y) / n
        grad_beta = x.T @ g
        return value, np.concatenate([[g.sum()], [grad_beta @ prior],
                                      grad_beta + 2 * strength * delta])

    start = np.concatenate([[0.0, 1.0], np.zeros(d)])
    found = minimize(loss, start, jac=True, method="L-BFGS-B")
    return found.x


def _predict(params: np.ndarray, x: np.ndarray, prior: np.ndarray) -> np.ndarray:
    beta = params[1] * prior + params[2:]
    return 1.0 / (1.0 + np.exp(-(params[0] + x @ beta)))


def _as_weights(params: np.ndarray, prior: np.ndarray) -> np.ndarray | None:
    beta = np.clip(params[1] * prior + params[2:], 0.0, None)
    return beta / beta.sum() if beta.sum() > 0 else None


def _prior_only(x_train, y_train, x_test, prior):
    """The prior weights with only an intercept and a scale fitted: their fair calibration."""
    params = _fit(x_train, y_train, prior, C=1e-9)
    return _predict(params, x_test, prior)


def fit_prior_weights(x: np.ndarray, y: np.ndarray, prior: np.ndarray, C: float = 1.0,
                      held_out: float = 0.3, groups: np.ndarray | None = None,
                      random_state=None) -> PriorWeights:
    """Learn weights (see module doc); `groups` keep a request's outcomes on one side."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    prior = np.asarray(prior, dtype=np.float64)
    groups = np.arange(len(y)) if groups is None else np.asarray(groups)
    unique = np.unique(groups)
    rng = np.random.default_rng(0 if random_state is None else random_state)
    test_groups = rng.permutation(unique)[:max(1, int(round(held_out * len(unique))))]
    test = np.isin(groups, test_groups)
    train = ~test
    report = {"train_outcomes": int(train.sum()), "test_outcomes": int(test.sum())}
    usable = (len(set(y[train].tolist())) == 2 and len(set(y[test].tolist())) == 2
              and held_out > 0)
    if usable:
        params = _fit(x[train], y[train], prior, C)
        learned = _predict(params, x[test], prior)
        fixed = _prior_only(x[train], y[train], x[test], prior)
        report.update(
            learned_log_loss=float(log_loss(y[test], learned, labels=[0, 1])),
            prior_log_loss=float(log_loss(y[test], fixed, labels=[0, 1])),
            learned_auc=float(roc_auc_score(y[test], learned)),
            prior_auc=float(roc_auc_score(y[test], x[test] @ prior)))
        better = report["learned_log_loss"] < report["prior_log_loss"]
    else:
        better = False  # nothing to test on: keep the fixed weights
        report["note"] = "too few outcomes of each kind to hold some out"
    # The weights in use are learned from all outcomes.
    params = _fit(x, y, prior, C)
    weights = _as_weights(params, prior)
    if weights is None:
        return PriorWeights(prior, False, report)
    report["learned_weights"] = np.round(weights, 4).tolist()
    return PriorWeights(weights, bool(better), report, coef_=params)
