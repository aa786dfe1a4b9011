# SPDX-License-Identifier: BSD-3-Clause
"""parot: optimal transport at cluster scale, from Python.

POT's names where POT has the function (``sinkhorn``, ``sinkhorn2``,
``sliced_wasserstein_distance``, ``max_sliced_wasserstein_distance``), and parot's own
``solve``, ``sliced`` and ``emd2_bounds``. Every function takes ``comm=`` (an mpi4py
communicator, default ``MPI.COMM_WORLD``): run the same script serially or under ``mpirun``.
Without ``distributed=True`` every rank passes all the data and gets what POT would return;
with it, each rank passes only its own source rows and gets its own rows back.
"""
from mpi4py import MPI  # noqa: F401  (initializes MPI before PETSc; finalizes it last)

from . import _core

_core.init_petsc()

from ._api import (  # noqa: E402
    NotConvergedError,
    Result,
    emd2_bounds,
    max_sliced_wasserstein_distance,
    sinkhorn,
    sinkhorn2,
    sinkhorn_unbalanced,
    sinkhorn_unbalanced2,
    sliced,
    sliced_wasserstein_distance,
    solve,
    solver_types,
)

__version__ = _core.version
__all__ = [
    "NotConvergedError", "Result", "emd2_bounds", "max_sliced_wasserstein_distance", "sinkhorn",
    "sinkhorn2", "sinkhorn_unbalanced", "sinkhorn_unbalanced2", "sliced",
    "sliced_wasserstein_distance", "solve", "solver_types", "__version__",
]
