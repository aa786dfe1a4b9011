# SPDX-License-Identifier: BSD-3-Clause
"""The output rules of parot's drivers (DESIGN.md §5) for the files that jobs/ scripts write.

``atomic_open(path, mode, inputs=())`` refuses, before anything is written, a path that exists
and is not a regular file (a device such as /dev/null, a directory, a FIFO) and a path that is
the same file as one of ``inputs``; it writes to ``path + ".tmp"`` and renames the temporary
over ``path`` only when the ``with`` block ends without an exception, so a failed write (a
full disk) leaves the previous file intact and no temporary behind.
"""
import contextlib
import os
import stat


class OutputRefused(ValueError):
    pass


def check_output(path, inputs=()):
    """Raises OutputRefused when ``path`` may not be written (see the module's text)."""
    for candidate in (path, path + ".tmp"):
        try:
            st = os.stat(candidate)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(st.st_mode):
            raise OutputRefused(f"'{candidate}' exists and is not a regular file; refusing to "
                                "replace it")
        for source in inputs:
            try:
                other = os.stat(source)
            except FileNotFoundError:
                continue
            if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
                raise OutputRefused(f"'{candidate}' is the same file as the input '{source}'")


@contextlib.contextmanager
def atomic_path(path, inputs=()):
    """Yields a temporary name to write (e.g. with savefig); renamed to ``path`` on success."""
    check_output(path, inputs)
    tmp = path + ".tmp"
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


@contextlib.contextmanager
def atomic_open(path, mode="w", inputs=(), **kwargs):
    """``open`` for writing, with the checks and the rename of ``atomic_path``."""
    with atomic_path(path, inputs) as tmp:
        with open(tmp, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
