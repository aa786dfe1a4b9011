# SPDX-License-Identifier: BSD-3-Clause
# parot's POT-named functions against POT 0.8.2 on the same arrays, at any rank count.
import numpy as np
import ot
import pytest
from mpi4py import MPI

import parot

COMM = MPI.COMM_WORLD


def problem(n=60, m=50, seed=0):
    rng = np.random.default_rng(seed)  # the same arrays on every rank
    X, Y = rng.random((n, 2)), rng.random((m, 2)) + 0.2
    a = np.full(n, 1.0 / n)
    b = rng.random(m) + 0.5
    b /= b.sum()
    return X, Y, a, b, ot.dist(X, Y)


@pytest.mark.parametrize("method", ["sinkhorn", "sinkhorn_log", "sns"])
@pytest.mark.parametrize("reg", [0.05, 0.2])
def test_sinkhorn_plan_and_value_match_pot(method, reg):
    X, Y, a, b, M = problem()
    P = parot.sinkhorn(a, b, M, reg, method=method, stopThr=1e-12, numItermax=100000)
    Q = ot.sinkhorn(a, b, M, reg, stopThr=1e-15, numItermax=100000)
    assert P.shape == Q.shape == (60, 50)
    assert np.abs(P - Q).max() <= 1e-8 * Q.max()
    value = parot.sinkhorn2(a, b, M, reg, method=method, stopThr=1e-12, numItermax=100000)
    assert value == pytest.approx(float((M * Q).sum()), rel=1e-8)


def test_sinkhorn_log_returns_potentials_and_history():
    X, Y, a, b, M = problem()
    P, log = parot.sinkhorn(a, b, M, 0.1, stopThr=1e-12, numItermax=100000, log=True)
    assert log["niter"] > 0 and log["err"][-1] <= 1e-12
    # POT's log-domain convention: P = exp(log_u_i + log_v_j − M_ij / reg).
    rebuilt = np.exp(log["log_u"][:, None] + log["log_v"][None, :] - M / 0.1)
    assert np.abs(rebuilt - P).max() <= 1e-12 * P.max()


def test_unequal_total_masses_scale_the_plan_like_pot():
    X, Y, a, b, M = problem()
    P = parot.sinkhorn(3 * a, 3 * b, M, 0.1, stopThr=1e-12, numItermax=100000)
    Q = ot.sinkhorn(3 * a, 3 * b, M, 0.1, stopThr=1e-15, numItermax=100000)
    assert P.sum() == pytest.approx(3.0, rel=1e-10)
    assert np.abs(P - Q).max() <= 1e-8 * Q.max()


def test_emd2_bounds_contain_pot_exact_cost_with_a_feasible_plan():
    X, Y, a, b, M = problem(40, 30, seed=1)
    lower, upper, plan = parot.emd2_bounds(a, b, M, rtol=1e-2)
    exact = ot.emd2(a, b, M)
    assert lower <= exact * (1 + 1e-12) and exact <= upper * (1 + 1e-12)
    assert (upper - lower) / upper <= 1e-2
    dense = plan.toarray()
    assert np.all(dense >= 0)
    assert np.abs(dense.sum(1) - a).sum() <= 1e-12 and np.abs(dense.sum(0) - b).sum() <= 1e-12
    assert float((M * dense).sum()) == pytest.approx(upper, rel=1e-12)


def test_sliced_matches_pot_on_the_same_directions():
    X, Y, a, b, _ = problem(300, 200)
    theta = parot._core.sliced_directions(3, 50, 2)  # the seed's directions, L x d
    for p in (1, 2):
        ours = parot.sliced_wasserstein_distance(X, Y, a, b, n_projections=50, p=p, seed=3)
        pot = ot.sliced_wasserstein_distance(X, Y, a, b, n_projections=50, p=p,
                                             projections=theta.T)
        assert ours == pytest.approx(pot, rel=1e-12)


def test_max_sliced_is_at_least_pot_sampled_maximum_and_at_most_wasserstein():
    X, Y, a, b, M = problem(200, 150)
    ours = parot.max_sliced_wasserstein_distance(X, Y, a, b, n_projections=100, seed=0)
    sampled = ot.max_sliced_wasserstein_distance(X, Y, a, b, n_projections=1000, seed=0)
    assert ours >= sampled * (1 - 1e-9)
    assert ours <= np.sqrt(ot.emd2(a, b, M)) * (1 + 1e-9)  # W_2 bounds every projection


def test_same_answer_at_any_rank_count_as_serial():
    X, Y, a, b, M = problem()
    here = parot.sinkhorn(a, b, M, 0.1, method="sns", stopThr=1e-12)
    alone = parot.sinkhorn(a, b, M, 0.1, method="sns", stopThr=1e-12, comm=MPI.COMM_SELF)
    assert np.abs(here - alone).max() <= 1e-12 * alone.max()
