#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's second command (and CI's): set up, then run the whole test suite.
# "The whole suite" includes the labels slurm (jobs/*.sbatch on a SLURM the test starts) and scaling.
source "$(dirname "${BASH_SOURCE[0]}")/../jobs/lib/setup-debian.sh"
# Twice as many slots as cores: most driver tests wait on process start-up (see
# cmake/parot_testing.cmake, parot_driver_slots).
ctest --test-dir "$PAROT_BUILD" --output-on-failure -j "$((2 * $(nproc)))" "$@"
