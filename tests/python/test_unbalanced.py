# SPDX-License-Identifier: BSD-3-Clause
# Unbalanced OT (issue 18, Sinkhorn part) against POT 0.8.2's plain sinkhorn_unbalanced and the
# closed forms of ../shared/reference/unbalanced.md §7, at any rank count.
import numpy as np
import ot
import pytest

import parot


def problem(n=40, m=30, seed=0):
    rng = np.random.default_rng(seed)
    X, Y = rng.random((n, 2)), rng.random((m, 2)) + 0.3
    a = rng.random(n) + 0.5
    b = rng.random(m) + 0.5
    return a / a.sum() * 1.3, b / b.sum() * 0.8, ot.dist(X, Y)  # masses 1.3 and 0.8


@pytest.mark.parametrize("reg_rel", [1e-1, 1e-2])
@pytest.mark.parametrize("tau", [0.1, 1.0, 10.0])
def test_plan_and_cost_match_pot(reg_rel, tau):
    a, b, M = problem()
    reg = reg_rel * M.max()
    P = parot.sinkhorn_unbalanced(a, b, M, reg, tau, stopThr=1e-13, numItermax=100000)
    Q = ot.unbalanced.sinkhorn_unbalanced(a, b, M, reg, tau, stopThr=1e-15, numItermax=200000)
    assert np.abs(P - Q).max() <= 1e-8 * Q.max()
    cost = parot.sinkhorn_unbalanced2(a, b, M, reg, tau, stopThr=1e-13, numItermax=100000)
    assert cost == pytest.approx(float((M * Q).sum()), rel=1e-8)


def test_two_diracs_closed_form():
    ma, mb, C, eps, ta, tb = 2.0, 0.5, 0.7, 0.3, 1.5, 0.8
    p = np.exp((ta * np.log(ma) + tb * np.log(mb) - C) / (eps + ta + tb))
    r = parot.solve(M=np.array([[C]]), a=np.array([ma]), b=np.array([mb]), reg=eps,
                    options={"reg_m_source": ta, "reg_m_target": tb, "atol": 1e-14}, plan="dense")
    assert r.converged
    assert r.plan[0, 0] == pytest.approx(p, rel=1e-13)
    assert r.objective == pytest.approx(ta * ma + tb * mb - (eps + ta + tb) * p, rel=1e-13)
    assert r.f[0] == pytest.approx(-ta * np.log(p / ma), rel=1e-12)
    assert r.g[0] == pytest.approx(-tb * np.log(p / mb), rel=1e-12)


def test_mass_identity_at_the_optimum():
    # U* = D* = τ_a m(a) + τ_b m(b) − (ε + τ_a + τ_b) m(P*)   (both τ finite)
    a, b, M = problem(seed=3)
    eps, ta, tb = 0.05, 0.7, 2.0
    r = parot.solve(M=M, a=a, b=b, reg=eps, options={"reg_m_source": ta, "reg_m_target": tb,
                                                    "atol": 1e-13, "max_it": 100000})
    assert r.converged
    mass = r.transported_mass
    assert r.objective == pytest.approx(ta * a.sum() + tb * b.sum() - (eps + ta + tb) * mass,
                                        rel=1e-11)


def test_large_tau_gives_the_balanced_answer_and_converges_fast():
    a, b, M = problem(seed=1)
    b = b / b.sum() * a.sum()  # equal masses: the balanced problem exists
    reg = 0.05 * M.max()
    balanced = ot.sinkhorn(a, b, M, reg, stopThr=1e-15, numItermax=100000)
    r = parot.solve(M=M, a=a, b=b, reg=reg, plan="dense",
                    options={"reg_m": 1e8, "atol": 1e-12, "max_it": 100000})
    assert r.converged
    # Translation-invariant iterations: τ/ε ≈ 1e9 costs about what balanced Sinkhorn costs.
    plain = parot.solve(M=M, a=a, b=b, reg=reg, options={"atol": 1e-12, "max_it": 100000})
    assert r.iterations <= 2 * plain.iterations + 10
    assert np.abs(r.plan - balanced).max() <= 1e-6 * balanced.max()


def test_semi_unbalanced_keeps_the_exact_side():
    a, b, M = problem(seed=2)
    r = parot.solve(M=M, a=a, b=b, reg=0.05, plan="dense",
                    options={"reg_m_source": "inf", "reg_m_target": 1.0, "atol": 1e-12,
                             "max_it": 100000})
    assert r.converged
    assert np.abs(r.plan.sum(1) - a).sum() <= 1e-11  # the source marginal is exact
    # The relaxed side meets its first-order condition c = b e^{−g/τ_b}.
    assert np.abs(r.plan.sum(0) - b * np.exp(-r.g / 1.0)).sum() <= 1e-11
    assert r.plan.sum() == pytest.approx(a.sum(), rel=1e-12)


def test_bad_reg_m_and_unequal_masses_for_balanced_solvers():
    a, b, M = problem()
    for bad in (0, -1.0, "nan"):
        with pytest.raises(ValueError, match="reg_m"):
            parot.solve(M=M, a=a, b=b, reg=0.1, options={"reg_m": bad})
    with pytest.raises(ValueError, match="reg_m"):
        parot.solve(M=M, a=a, b=b, reg=0.1, options={"reg_m": "abc"})
    with pytest.raises(ValueError, match="-reg_m .*works with -solver sinkhorn"):
        parot.solve(M=M, a=a, b=b, reg=0.1, solver="sns", options={"reg_m": 1.0})
    with pytest.raises(ValueError, match="masses differ"):
        parot.solve(M=M, a=a, b=b, reg=0.1)
