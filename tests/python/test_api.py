# SPDX-License-Identifier: BSD-3-Clause
# parot.solve and the binding's contracts: distributed rows, no copies, option scoping, errors,
# non-convergence, Ctrl-C.
import os
import signal
import threading
import time
import warnings

import numpy as np
import ot
import pytest
from mpi4py import MPI

import parot

COMM = MPI.COMM_WORLD


def clouds(n=80, m=70, seed=2):
    rng = np.random.default_rng(seed)
    return rng.random((n, 3)), rng.random((m, 3))


def test_points_and_matrix_give_the_same_answer_as_pot():
    X, Y = clouds()
    M = ot.dist(X, Y)
    a, b = np.full(80, 1 / 80), np.full(70, 1 / 70)
    r = parot.solve(X=X, Y=Y, reg=0.1, solver="sns", options={"atol": 1e-12}, plan="dense")
    s = parot.solve(M=M, reg=0.1, solver="sinkhorn", options={"atol": 1e-12}, plan="dense")
    Q = ot.sinkhorn(a, b, M, 0.1, stopThr=1e-15, numItermax=100000)
    for res in (r, s):
        assert res.converged and res.reason == "converged_atol"
        assert np.abs(res.plan - Q).max() <= 1e-8 * Q.max()
        assert res.transport_cost == pytest.approx(float((M * Q).sum()), rel=1e-8)
        assert res.f.shape == (80,) and res.g.shape == (70,)
        assert len(res.history["marginal_error"]) > 0


def test_distributed_rows_come_back_as_this_ranks_rows():
    X, Y = clouds()
    full = parot.solve(X=X, Y=Y, reg=0.1, options={"atol": 1e-12}, plan="dense")
    rows = np.array_split(np.arange(80), COMM.size)[COMM.rank]
    mine = parot.solve(X=np.ascontiguousarray(X[rows]), Y=Y, a=np.full(len(rows), 1 / 80),
                       b=np.full(70, 1 / 70), reg=0.1, options={"atol": 1e-12},
                       distributed=True, plan="dense")
    assert mine.plan.shape == (len(rows), 70) and mine.f.shape == (len(rows),)
    assert np.abs(mine.plan - full.plan[rows]).max() <= 1e-12 * full.plan.max()


def test_the_cost_matrix_is_read_in_place():
    X, Y = clouds(30, 20)
    M = ot.dist(X, Y)
    address = M.__array_interface__["data"][0]
    refs = __import__("sys").getrefcount(M)
    r = parot.solve(M=M, reg=0.1, options={"atol": 1e-10})
    assert r.converged
    assert M.__array_interface__["data"][0] == address
    assert __import__("sys").getrefcount(M) == refs  # the solver let go of the buffer
    # A strided view or another dtype is refused, not silently copied.
    with pytest.raises(ValueError, match="C-contiguous"):
        parot.solve(M=np.asfortranarray(M), reg=0.1)
    with pytest.raises(TypeError, match="float64"):
        parot.solve(M=M.astype(np.float32), reg=0.1)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        parot.solve(M=M.tolist(), reg=0.1)


def test_options_are_scoped_to_the_call_and_misspelt_keys_are_errors():
    X, Y = clouds(30, 20)
    with pytest.warns(RuntimeWarning, match="not converged"):
        capped = parot.solve(X=X, Y=Y, reg=0.1, options={"atol": 1e-13, "max_it": 5})
    assert capped.iterations <= 5 and capped.reason == "diverged_max_it"
    default = parot.solve(X=X, Y=Y, reg=0.1)  # max_it 5 did not leak into this call
    assert default.converged and default.iterations > 5
    with pytest.raises(ValueError, match="unknown option.*atoll"):
        parot.solve(X=X, Y=Y, reg=0.1, options={"atoll": 1e-9})
    with pytest.raises(ValueError, match="sns_warmup_it"):
        parot.solve(X=X, Y=Y, reg=0.1, solver="sinkhorn", options={"sns_warmup_it": 3})
    r = parot.solve(X=X, Y=Y, reg=0.1, solver="sns", options={"sns_warmup_it": 3})
    assert r.converged


def test_bad_input_raises_value_error_with_the_cli_message_on_every_rank():
    X, Y = clouds(30, 20)
    a = np.full(30, 1 / 30)
    a[3] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        parot.solve(X=X, Y=Y, a=a, reg=0.1)
    with pytest.raises(ValueError, match="masses differ"):
        parot.solve(X=X, Y=Y, a=np.full(30, 1.0), reg=0.1)
    with pytest.raises(ValueError, match="dimension"):
        parot.solve(X=X, Y=Y[:, :2].copy(), reg=0.1)
    with pytest.raises(ValueError, match="-reg must be positive"):
        parot.solve(X=X, Y=Y, reg=-1.0)
    with pytest.raises(ValueError, match="unknown value 'nope'|unknown solver 'nope'"):
        parot.solve(X=X, Y=Y, reg=0.1, solver="nope")
    COMM.Barrier()  # every rank raised and is still in step


def test_not_converging_warns_or_raises_when_asked():
    X, Y = clouds(30, 20)
    with pytest.warns(RuntimeWarning, match="not converged"):
        r = parot.solve(X=X, Y=Y, reg=0.01, options={"max_it": 3})
    assert r.reason == "diverged_max_it"
    with pytest.raises(parot.NotConvergedError):
        parot.solve(X=X, Y=Y, reg=0.01, options={"max_it": 3}, error_if_not_converged=True)


@pytest.mark.skipif(COMM.size > 1, reason="one process: SIGINT goes to this rank only")
def test_ctrl_c_stops_a_long_solve_within_a_second():
    signal.signal(signal.SIGINT, signal.default_int_handler)
    X, Y = clouds(1500, 1500, seed=5)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        parot.solve(X=X, Y=Y, reg=1e-4, options={"reg_relative": True, "max_it": 10**7},
                    solver="sinkhorn")
    elapsed = time.monotonic() - start
    timer.cancel()
    assert elapsed < 2.0, elapsed
    # The next call runs normally.
    assert parot.solve(X=X[:20].copy(), Y=Y[:20].copy(), reg=0.1).converged
