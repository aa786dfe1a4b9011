#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# CI's portability pass: the MPI numeric tests (mpi_tests, mpi_sparse_tests) at 1 and 2 ranks
# again, under an OpenBLAS kernel other than the one this machine uses, so that a result that
# depends on the last bits of one BLAS kernel fails on any CI machine, not only on some CPUs.
# Expects the build of tests/run-all.sh (source jobs/lib/setup-debian.sh first).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../jobs/lib/setup-debian.sh"
flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
candidates=()
[[ $flags == *avx512f* ]] && candidates+=(SkylakeX)
[[ $flags == *avx2* ]] && candidates+=(Haswell)
[[ $flags == *" avx "* ]] && candidates+=(Sandybridge)
candidates+=(Prescott)  # SSE3: runs on every x86-64
own=${OPENBLAS_CORETYPE:-${candidates[0]}}
other=""
for c in "${candidates[@]}"; do
  if [[ ${c,,} != "${own,,}" ]]; then other=$c; break; fi
done
echo "blas-variant: this machine's OpenBLAS kernel: $own; testing again under: $other"
export OPENBLAS_CORETYPE=$other
export OMPI_MCA_odls_base_sigkill_timeout=0 PETSC_OPTIONS=-no_signal_handler
for np in 1 2; do
  for t in mpi_tests mpi_sparse_tests; do
    echo "blas-variant: $t at $np rank(s), OPENBLAS_CORETYPE=$other"
    timeout 1200 mpirun -n "$np" "$PAROT_BUILD/tests/$t" --gtest_brief=1
  done
done
echo "blas-variant: passed under OPENBLAS_CORETYPE=$other"
