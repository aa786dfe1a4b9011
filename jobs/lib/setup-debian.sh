#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the top-level scripts: installs parot's Debian 12 packages (those missing), builds
# parot in build/, and exports what Open MPI needs on a small machine run as root.
set -euo pipefail
PAROT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PAROT_BUILD=${PAROT_BUILD:-$PAROT_ROOT/build}

packages=(build-essential cmake pkg-config libopenmpi-dev openmpi-bin petsc-dev time
          libhdf5-openmpi-dev hdf5-tools libeigen3-dev libgtest-dev libbenchmark-dev
          python3-h5py python3-numpy python3-scipy python3-pot libopenblas0-pthread python3-matplotlib
          slurm-wlm munge
          pybind11-dev python3-dev python3-mpi4py python3-pytest python3-pytest-timeout)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "parot: installing ${missing[*]}"
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  rm -f /var/lib/man-db/auto-update 2>/dev/null || true  # skip the slow man-db trigger
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S "$PAROT_ROOT" -B "$PAROT_BUILD" -DCMAKE_BUILD_TYPE=Release -DPAROT_BUILD_TESTS=ON
cmake --build "$PAROT_BUILD" -j "$(nproc)"
# `import parot` from any directory: the package goes to /usr/local/lib/python3.X/dist-packages
# (on Debian's sys.path; python.md §8). Without root: PYTHONPATH=$PAROT_BUILD/python.
if [[ $(id -u) -eq 0 ]]; then
  cmake --install "$PAROT_BUILD" --component python >/dev/null
fi

# Open MPI: allow root (containers, CI), more ranks than cores, yield when idle.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
