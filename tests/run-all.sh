#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's second command (and CI's): set up, then run the whole test suite.
source "$(dirname "${BASH_SOURCE[0]}")/../jobs/lib/setup-debian.sh"
ctest --test-dir "$PAROT_BUILD" --output-on-failure -j "$(nproc)" "$@"
