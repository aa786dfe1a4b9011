// SPDX-License-Identifier: BSD-3-Clause
// Triangle meshes and the measures built from them (sliced.md §6).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "parot/core/types.hpp"
#include "parot/problem/point_measure.hpp"

namespace parot {

/// A triangle mesh in R^3.
struct TriangleMesh {
  RowMatrix vertices;                        ///< N_v × 3
  std::vector<std::array<gindex, 3>> faces;  ///< vertex indices, consistently oriented
};

/// How a mesh becomes a discrete measure:
///   samples  m area-weighted uniform samples of the surface (counter-based, keyed by seed);
///   faces    face centroids weighted by area;
///   normals  the oriented varifold (c_f, λ n_f) ∈ R^6 weighted by area;
///   vertices vertices weighted by a third of the area of their faces (no sampling noise).
/// Zero-area faces get weight 0. @notcollective (replicated arguments: every rank throws alike)
/// @throws InvalidArgument for an unknown kind, samples < 1, seed < 0 or samples above the
/// memory limit (kind samples), a normal_scale that is not finite and positive (kind normals);
/// InvalidInput for an empty mesh, a non-finite vertex, a face index out of range or zero area.
PointMeasure mesh_measure(const TriangleMesh& mesh, const std::string& kind, long samples,
                          long seed, double normal_scale);

/// Reads a mesh from an OFF or OBJ file (polygons are split into triangle fans). Every rank
/// parses the same file, so errors are collective. The counts of an OFF header are checked
/// against the file's size and the memory limit (-max_memory) before anything is allocated; an
/// OBJ file is checked against the memory limit as it is read.
/// @throws InvalidInput naming file and line (and the claimed counts).
TriangleMesh read_mesh_text(const std::string& path);

}  // namespace parot
