// SPDX-License-Identifier: BSD-3-Clause
// Triangle meshes: OFF/OBJ reading, surface measures, SW between meshes (sliced.md §6–7).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "support/problems.hpp"

using namespace parot;

namespace {

const char* cube_off =
    "OFF\n8 6 0\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n0 0 1\n1 0 1\n1 1 1\n0 1 1\n"
    "4 0 3 2 1\n4 4 5 6 7\n4 0 1 5 4\n4 2 3 7 6\n4 1 2 6 5\n4 0 4 7 3\n";

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("parot_mesh_np" + std::to_string(comm_size(MPI_COMM_WORLD)) + "_" + name))
          .string();
  if (comm_rank(MPI_COMM_WORLD) == 0) std::ofstream(path) << text;
  MPI_Barrier(MPI_COMM_WORLD);
  return path;
}

}  // namespace

TEST(Mesh, ReadsOffAndObjAndBuildsMeasures) {
  const TriangleMesh off = read_mesh_text(write_file("cube.off", cube_off));
  EXPECT_EQ(off.vertices.rows(), 8);
  EXPECT_EQ(off.faces.size(), 12u);  // six quads as triangle fans
  std::string obj = "# cube\n";
  for (Eigen::Index i = 0; i < 8; ++i)
    obj += detail::cat("v ", off.vertices(i, 0), " ", off.vertices(i, 1), " ", off.vertices(i, 2),
                       "\n");
  for (const auto& f : off.faces)
    obj += detail::cat("f ", f[0] + 1, "/1 ", f[1] + 1, "//2 ", f[2] + 1, "\n");
  const TriangleMesh from_obj = read_mesh_text(write_file("cube.obj", obj));
  EXPECT_EQ(from_obj.faces, off.faces);

  for (const char* kind : {"faces", "normals", "vertices"}) {
    const PointMeasure m = mesh_measure(off, kind, 0, 0, 1.0);
    EXPECT_NEAR(m.weights.sum(), 1.0, 1e-14) << kind;
    const Eigen::Vector3d centre = m.points.leftCols(3).transpose() * m.weights;
    EXPECT_LT((centre - Eigen::Vector3d::Constant(0.5)).norm(), 1e-14) << kind;
  }
  // Area-weighted samples: uniform on the surface, so their mean is the centre (4 s.e.).
  const PointMeasure s = mesh_measure(off, "samples", 20000, 3, 1.0);
  const Eigen::Vector3d mean = s.points.colwise().mean();
  EXPECT_LT((mean - Eigen::Vector3d::Constant(0.5)).cwiseAbs().maxCoeff(),
            4 * std::sqrt(1.0 / 12 / 20000) * 1.5);
}

TEST(Mesh, TranslatedMeshClosedForms) {
  TriangleMesh a = read_mesh_text(write_file("cube2.off", cube_off)), b = a;
  const Eigen::RowVector3d v(0.3, -0.1, 0.2);
  b.vertices.rowwise() += v;
  SlicedParams p;
  p.L = 50;
  p.cv = "lower";
  for (const auto& [kind, dim] :
       {std::pair<const char*, double>{"faces", 3}, {"vertices", 3}, {"normals", 6}}) {
    const SlicedResult r = sliced_wasserstein(MPI_COMM_WORLD, mesh_measure(a, kind, 0, 0, 1.0),
                                              mesh_measure(b, kind, 0, 0, 1.0), p);
    EXPECT_NEAR(r.sw_pp, v.squaredNorm() / dim, 1e-12) << kind;
  }
}

TEST(Mesh, BadFilesAreCollectiveErrors) {
  const std::string bad = write_file("bad.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 x 0\n3 0 1 2\n");
  try {
    read_mesh_text(bad);
    ADD_FAILURE();
  } catch (const InvalidInput& e) {
    EXPECT_TRUE(e.collective());
    EXPECT_NE(std::string(e.what()).find(":5: expected a finite number"), std::string::npos)
        << e.what();
  }
  const std::string range = write_file("range.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 7\n");
  EXPECT_THROW(read_mesh_text(range), InvalidInput);
  EXPECT_THROW(read_mesh_text("/nonexistent.off"), InvalidInput);
}
