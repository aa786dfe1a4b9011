# SPDX-License-Identifier: BSD-3-Clause
# pytest under mpirun (python.md §7): rank 0 reports; a test that failed on any rank fails on
# every rank, with the other ranks' reports attached.
import pytest
from mpi4py import MPI

_WORLD = MPI.COMM_WORLD
_SYNC = _WORLD.Dup()  # private: never matches a collective a test left half-done


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    if _WORLD.size > 1 and _WORLD.rank != 0:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            config.pluginmanager.unregister(reporter)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if _WORLD.size == 1:
        return
    rep = outcome.get_result()
    everyone = _SYNC.allgather((rep.outcome, rep.longreprtext if rep.failed else ""))
    failed = [(r, text) for r, (oc, text) in enumerate(everyone) if oc == "failed"]
    if failed and not rep.failed:
        rep.outcome = "failed"
        rep.longrepr = "\n".join(f"[rank {r}] {text}" for r, text in failed)
    elif failed and _WORLD.rank == 0 and len(failed) > 1:
        rep.sections.append(("other ranks", "\n".join(f"[rank {r}] {t}" for r, t in failed if r)))
