// SPDX-License-Identifier: BSD-3-Clause
// Umbrella header: everything a driver or library user needs.
#pragma once

#include "parot/core/comm.hpp"
#include "parot/core/environment.hpp"
#include "parot/core/error.hpp"
#include "parot/core/layout.hpp"
#include "parot/core/log.hpp"
#include "parot/core/options.hpp"
#include "parot/core/types.hpp"
#include "parot/io/hdf5.hpp"
#include "parot/problem/cost.hpp"
#include "parot/problem/generate.hpp"
#include "parot/problem/measure.hpp"
#include "parot/problem/mesh.hpp"
#include "parot/problem/problem.hpp"
#include "parot/solver/result.hpp"
#include "parot/solver/sinkhorn.hpp"
#include "parot/solver/sliced.hpp"
#include "parot/solver/sns.hpp"
#include "parot/solver/solver.hpp"
#include "parot/solver/summary.hpp"
#include "parot/version.hpp"
