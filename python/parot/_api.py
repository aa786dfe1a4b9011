# SPDX-License-Identifier: BSD-3-Clause
"""The Python API over parot._core (see the package docstring)."""
import warnings

import numpy as np
from mpi4py import MPI

from . import _core

NotConvergedError = _core.NotConvergedError


def solver_types():
    """Names of the registered solvers (parot-solve -solver)."""
    return list(_core.solver_types())


def _option_text(value):
    if value is True or value is None:
        return ""  # a bare flag
    if value is False:
        return "false"
    return str(value)


class Result:
    """What ``solve`` returns: potentials (POT's convention), the reason it stopped, counts, the
    history, and where asked the plan (dense numpy or scipy.sparse) and certified bounds."""

    def __init__(self, d):
        self.__dict__.update(d)

    def __repr__(self):
        return (f"Result(solver={self.solver!r}, reason={self.reason!r}, "
                f"iterations={self.iterations}, transport_cost={self.transport_cost!r})")

    def sparse_plan_matrix(self, shape):
        """The sparse plan as a scipy.sparse.coo_matrix of the given shape."""
        import scipy.sparse
        p = self.sparse_plan
        return scipy.sparse.coo_matrix((p["value"], (p["row"], p["col"])), shape=shape)


def solve(X=None, Y=None, M=None, a=None, b=None, cost="sqeuclidean", p=2.0,
          solver="sinkhorn", reg=None, options=None, distributed=False, plan="none",
          error_if_not_converged=False, comm=None):
    """Solves an OT problem with any registered solver.

    Give point clouds ``X`` (n x d) and ``Y`` (m x d) with a cost name (``sqeuclidean``,
    ``euclidean``, ``lp`` with ``p``), or an explicit cost matrix ``M`` (n x m). ``a`` and ``b``
    default to uniform weights. ``reg`` is ε (absolute, POT's convention). ``options`` is a dict
    of parot-solve keys without the dash (``{"atol": 1e-12, "sns_ksp_rtol": 1e-10}``), valid
    for this call only; a key the solver does not read raises ValueError. ``plan``: ``"none"``,
    ``"dense"`` (entropic solvers: the n x m plan, or this rank's rows when distributed), and
    any solver writes its sparse plan when ``options`` has ``plan_threshold``.

    Inputs are float64 C-contiguous numpy arrays, read in place (an explicit M is not copied);
    another dtype or layout raises TypeError / ValueError. Not converging warns (or raises
    NotConvergedError with ``error_if_not_converged``). Ctrl-C stops the solve at its next check
    with KeyboardInterrupt.
    """
    comm = MPI.COMM_WORLD if comm is None else comm
    if M is None and (X is None or Y is None):
        raise ValueError("give X and Y (point clouds) or M (a cost matrix)")
    n = np.shape(M)[0] if M is not None else np.shape(X)[0]
    m = np.shape(M)[1] if M is not None else np.shape(Y)[0]
    a = np.full(n, 1.0 / n) if a is None else a
    b = np.full(m, 1.0 / m) if b is None else b
    opts = {k: _option_text(v) for k, v in (options or {}).items()}
    if reg is not None:
        opts["reg"] = _option_text(reg)
    if error_if_not_converged:
        opts["error_if_not_converged"] = ""
    r = Result(_core.solve(comm, X, Y, M, a, b, cost, float(p), solver, opts, bool(distributed),
                           plan))
    if not r.converged:
        warnings.warn(f"parot.solve: not converged ({r.reason}) after {r.iterations} iterations, "
                      f"marginal error {r.marginal_error:.3g}", RuntimeWarning, stacklevel=2)
    return r


def _pot_entropic(a, b, M, reg, method, numItermax, stopThr, kwargs):
    solvers = {"sinkhorn": "sinkhorn", "sinkhorn_log": "sinkhorn",
               "sinkhorn_stabilized": "sinkhorn", "sns": "sns"}
    if method not in solvers:
        raise ValueError(f"method must be one of {sorted(solvers)}, got {method!r}")
    a = np.asarray(a, dtype=np.float64) if isinstance(a, list) else a
    b = np.asarray(b, dtype=np.float64) if isinstance(b, list) else b
    if a is not None and len(a) == 0:
        a = None
    if b is not None and len(b) == 0:
        b = None
    return _dense_solve(a, b, M, reg, solvers[method],
                        {"max_it": numItermax, "atol": stopThr}, kwargs)


def _dense_solve(a, b, M, reg, solver, options, kwargs):
    """The POT-style calls' common tail: parot's extras from kwargs (comm, distributed, options,
    verbose), anything else a TypeError, and the dense plan."""
    options = {**options, **kwargs.pop("options", {})}
    comm = kwargs.pop("comm", None)
    distributed = kwargs.pop("distributed", False)
    if kwargs.pop("verbose", False):
        options["monitor"] = True
    if kwargs:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(kwargs))}")
    return solve(M=M, a=a, b=b, solver=solver, reg=reg, options=options,
                 distributed=distributed, plan="dense", comm=comm)


def _pot_log(r):
    return {"niter": r.iterations, "err": list(r.history["marginal_error"]),
            "log_u": r.f / r.reg, "log_v": r.g / r.reg, "f": r.f, "g": r.g,
            "reason": r.reason}


def sinkhorn(a, b, M, reg, method="sinkhorn", numItermax=1000, stopThr=1e-9, verbose=False,
             log=False, **kwargs):
    """POT's ``ot.sinkhorn``: the entropic plan (n x m). ``stopThr`` bounds parot's marginal L1
    error ‖P1−a‖₁ + ‖Pᵀ1−b‖₁. ``method``: ``sinkhorn``, ``sinkhorn_log``,
    ``sinkhorn_stabilized`` (all parot's log-domain Sinkhorn) or ``sns`` (Sinkhorn-Newton-Sparse).
    Extra: ``comm``, ``distributed``, ``options`` (see ``solve``)."""
    r = _pot_entropic(a, b, M, reg, method, numItermax, stopThr, dict(kwargs, verbose=verbose))
    return (r.plan, _pot_log(r)) if log else r.plan


def sinkhorn2(a, b, M, reg, method="sinkhorn", numItermax=1000, stopThr=1e-9, verbose=False,
              log=False, **kwargs):
    """POT's ``ot.sinkhorn2``: ⟨M, P⟩ of the entropic plan P (see ``sinkhorn``)."""
    r = _pot_entropic(a, b, M, reg, method, numItermax, stopThr, dict(kwargs, verbose=verbose))
    return (r.transport_cost, _pot_log(r)) if log else r.transport_cost


def emd2_bounds(a, b, M, rtol=1e-2, solver="sns", options=None, comm=None):
    """Near-exact OT with a certificate: ``(lower, upper, plan)`` with lower <= OT(a, b, M) <=
    upper, (upper − lower) / upper <= rtol, and ``plan`` a feasible scipy.sparse plan whose cost
    is ``upper`` (POT's ``ot.emd2`` is the exact value)."""
    a = np.full(M.shape[0], 1.0 / M.shape[0]) if a is None or len(a) == 0 else a
    b = np.full(M.shape[1], 1.0 / M.shape[1]) if b is None or len(b) == 0 else b
    opts = {"ot_rtol": rtol, "plan_threshold": 1e-14, **(options or {})}
    r = solve(M=M, a=a, b=b, solver=solver, options=opts, comm=comm)
    return r.bounds["lower"], r.bounds["upper"], r.sparse_plan_matrix(M.shape)


def sliced(X_s, X_t, a=None, b=None, type="sw", L=100, p=2.0, seed=0, cv="none", kappa=1.0,
           steps=100, restarts=4, step_size=0.5, comm=None):
    """parot's sliced estimators (parot-sliced): ``type`` sw, max_sw or vdsw, Gaussian control
    variates (``cv`` lower/upper, p = 2). Returns a dict: sw (SW_p), sw_pp, stderr_pp,
    variance_reduction, slices, direction (Max-SW, v-DSW). The same value at any rank count."""
    params = _core.SlicedParams()
    params.type, params.L, params.p, params.seed, params.cv = type, int(L), float(p), int(seed), cv
    params.kappa, params.steps, params.restarts = float(kappa), int(steps), int(restarts)
    params.step_size = float(step_size)
    return _core.sliced(MPI.COMM_WORLD if comm is None else comm, X_s, X_t, a, b, params)


def sliced_wasserstein_distance(X_s, X_t, a=None, b=None, n_projections=50, p=2, seed=None,
                                log=False, comm=None):
    """POT's ``ot.sliced_wasserstein_distance``: the Monte Carlo SW_p over ``n_projections``
    directions uniform on the sphere (parot's counter-based directions for ``seed``: the same
    at any rank count; ``parot._core.sliced_directions(seed, L, d)`` returns them)."""
    r = sliced(X_s, X_t, a, b, type="sw", L=n_projections, p=p, seed=0 if seed is None else seed,
               comm=comm)
    if log:
        return r["sw"], {"projections": _core.sliced_directions(0 if seed is None else seed,
                                                                n_projections, X_s.shape[1]).T,
                         "stderr_pp": r["stderr_pp"]}
    return r["sw"]


def max_sliced_wasserstein_distance(X_s, X_t, a=None, b=None, n_projections=50, p=2, seed=None,
                                    log=False, comm=None):
    """POT's ``ot.max_sliced_wasserstein_distance``: max over directions of W_p of the
    projections. parot maximizes by projected ascent on the sphere from ``n_projections // 10``
    (at least 4) random starts, so its value is at least POT's sampled maximum."""
    r = sliced(X_s, X_t, a, b, type="max_sw", p=p, seed=0 if seed is None else seed,
               restarts=max(4, n_projections // 10), comm=comm)
    return (r["sw"], {"direction": np.asarray(r["direction"])}) if log else r["sw"]


def _unbalanced(a, b, M, reg, reg_m, method, numItermax, stopThr, kwargs):
    if method not in ("sinkhorn", "sinkhorn_stabilized", "sinkhorn_log"):
        raise ValueError(f"method must be sinkhorn, sinkhorn_stabilized or sinkhorn_log, "
                         f"got {method!r}")
    reg_a, reg_b = (reg_m if np.ndim(reg_m) == 0 else tuple(reg_m)), None
    if isinstance(reg_a, tuple):
        reg_a, reg_b = reg_a
    else:
        reg_b = reg_a
    return _dense_solve(a, b, M, reg, "sinkhorn",
                        {"max_it": numItermax, "atol": stopThr, "reg_m_source": reg_a,
                         "reg_m_target": reg_b}, kwargs)


def sinkhorn_unbalanced(a, b, M, reg, reg_m, method="sinkhorn", numItermax=1000, stopThr=1e-6,
                        verbose=False, log=False, **kwargs):
    """POT's ``ot.sinkhorn_unbalanced`` (POT 0.8.2's convention: ε Σ(P log P − P) and
    KL(P1|a), KL(Pᵀ1|b) weighted by ``reg_m``): the plan. ``reg_m`` is one τ for both sides or a
    pair (τ_a, τ_b), ``inf`` keeping that side exact (semi-unbalanced, which POT 0.8.2 cannot
    express). a and b keep their own total masses. ``stopThr`` bounds the L1 norm of the dual
    gradient (the marginal error of unbalanced OT). Translation-invariant iterations: large
    ``reg_m / reg`` converges as fast as balanced Sinkhorn."""
    r = _unbalanced(a, b, M, reg, reg_m, method, numItermax, stopThr,
                    dict(kwargs, verbose=verbose))
    return (r.plan, _pot_log(r)) if log else r.plan


def sinkhorn_unbalanced2(a, b, M, reg, reg_m, method="sinkhorn", numItermax=1000, stopThr=1e-6,
                         verbose=False, log=False, **kwargs):
    """POT 0.8.2's ``ot.sinkhorn_unbalanced2``: ⟨M, P⟩ of the unbalanced plan."""
    r = _unbalanced(a, b, M, reg, reg_m, method, numItermax, stopThr,
                    dict(kwargs, verbose=verbose))
    return (r.transport_cost, _pot_log(r)) if log else r.transport_cost
