#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's first command: set up, then solve the built-in default problem on 2 ranks with
# Sinkhorn-Newton-Sparse, write default-result.h5 and print the run summary.
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup-debian.sh"
cd "$PAROT_ROOT"
mpirun -n 2 "$PAROT_BUILD/drivers/parot-solve" -solver sns -output default-result.h5
