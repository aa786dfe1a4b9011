// SPDX-License-Identifier: BSD-3-Clause
// Seeded, deterministic problem families (the SNS experiments and beyond).
#pragma once

#include <mpi.h>

#include <string>
#include <utility>
#include <vector>

#include "parot/problem/problem.hpp"

namespace parot {

/// Settings of a generated problem.
/// Options keys (read by read_generate_options, no prefix):
///   -family <assignment|clouds|gaussians|density1d|images>  problem family (clouds)
///   -n <int>, -m <int>   sizes (n: 1000; m: n). images ignore them (28×28 = 784)
///   -d <int>             dimension of clouds and gaussians (2)
///   -p <1|2>             ground cost of density1d and images: |x−y| or |x−y|² (2)
///   -seed <int>          seed (0)
struct GenerateParams {
  std::string family = "clouds";
  long n = 1000;
  long m = -1;  ///< -1: same as n
  long d = 2;
  long p = 2;
  long seed = 0;
};

/// Names of the families.
const std::vector<std::string>& generator_families();

/// Reads the keys above from the options database and validates them. @collective{comm}
/// @throws InvalidArgument (collective)
void read_generate_options(MPI_Comm comm, GenerateParams& params);

/// Checks every field: family one of generator_families(); n > 0 and m > 0 or -1 (not for
/// images, which ignore them); d > 0; p 1 or 2; seed >= 0. Called by read_generate_options,
/// generate_problem and generate_batch. @notcollective @throws InvalidArgument
void validate(const GenerateParams& params);

/// Builds the problem: each rank generates only its own source rows (counter-based random
/// numbers keyed by seed and index, so the data do not depend on the rank count) and the whole
/// target. The result is finalized (validated, normalized). @collective{comm}
/// @throws InvalidArgument (collective) for bad settings (validate) or a problem above the
/// memory limit (-max_memory, memory.hpp) on some rank.
Problem generate_problem(MPI_Comm comm, const GenerateParams& params);

/// N source measures of the family with seeds seed, seed + 1, …, replicated on every rank (a
/// batch for the sliced distance matrix). @notcollective @throws InvalidArgument for bad settings
/// or a batch above the memory limit (replicated values: every rank throws the same).
std::vector<std::pair<RowMatrix, Vector>> generate_batch(const GenerateParams& params, long count);

/// A one-line description, e.g. "clouds n=3000 m=3000 d=2 seed=0".
std::string describe(const GenerateParams& params);

}  // namespace parot
