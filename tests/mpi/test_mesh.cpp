// SPDX-License-Identifier: BSD-3-Clause
// Triangle meshes: OFF/OBJ reading, surface measures, SW between meshes (sliced.md §6–7).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

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

namespace {

// Runs `read`, expects the collective InvalidInput on every rank with all `fragments` in it.
template <class F>
void expect_invalid_input(F&& read, std::initializer_list<std::string> fragments) {
  bool threw = false;
  try {
    read();
  } catch (const InvalidInput& e) {
    threw = true;
    EXPECT_TRUE(e.collective());
    for (const auto& fragment : fragments)
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unexpected exception: " << e.what();
  }
  EXPECT_TRUE(threw);
  EXPECT_TRUE(test::all_ranks(MPI_COMM_WORLD, threw));
}

// Restores the memory limit when a test ends.
struct MemoryLimit {
  explicit MemoryLimit(double bytes) : saved(memory_limit()) { set_memory_limit(bytes); }
  ~MemoryLimit() { set_memory_limit(saved); }
  double saved;
};

}  // namespace

TEST(Mesh, HeaderCountsAreCheckedAgainstTheFileBeforeAllocating) {
  // Issue 14: a header claiming 3.5e12 vertices was std::bad_alloc; now it is the file's error.
  const std::string huge =
      write_file("huge.off", "OFF\n3500000000000 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n");
  expect_invalid_input([&] { read_mesh_text(huge); },
                       {huge, "claims 3500000000000 vertices and 1 faces", "bytes"});
  const std::string faces = write_file("faces.off", "OFF\n3 2000000000 0\n0 0 0\n1 0 0\n0 1 0\n");
  expect_invalid_input([&] { read_mesh_text(faces); }, {faces, "claims 3 vertices and 2000000000"});
  // A header that the file could hold, above the memory limit.
  std::string text = "OFF\n2000 1 0\n";
  for (int i = 0; i < 2000; ++i)
    text += detail::cat(i, " 0 0\n");
  text += "3 0 1 2\n";
  const std::string big = write_file("big.off", text);
  EXPECT_EQ(read_mesh_text(big).vertices.rows(), 2000);
  {
    const MemoryLimit limit(16 * 1024);
    expect_invalid_input([&] { read_mesh_text(big); }, {big, "2000 vertices", "-max_memory"});
  }
  EXPECT_EQ(read_mesh_text(big).vertices.rows(), 2000);
}

TEST(Mesh, ObjIsCheckedAgainstTheMemoryLimitWhileRead) {
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text += detail::cat("v ", i, " 0 1\n");
  text += "f 1 2 3\n";
  const std::string path = write_file("big.obj", text);
  EXPECT_EQ(read_mesh_text(path).vertices.rows(), 1000);
  const MemoryLimit limit(8 * 1024);
  expect_invalid_input([&] { read_mesh_text(path); }, {path + ":", "-max_memory"});
}

TEST(Mesh, FaceIndicesAndSizesAreChecked) {
  const std::string tri = "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n";
  const std::string range = write_file("range.off", tri + "3 0 1 3\n");
  expect_invalid_input([&] { read_mesh_text(range); }, {range + ":6", "vertex index 3 outside"});
  const std::string fraction = write_file("fraction.off", tri + "3 0 1 0.5\n");
  expect_invalid_input([&] { read_mesh_text(fraction); }, {"vertex index 0.5 is not an integer"});
  const std::string huge = write_file("face_size.off", tri + "1e15 0 1 2\n");
  expect_invalid_input([&] { read_mesh_text(huge); }, {huge + ":6", "bad face size"});
  const std::string two = write_file("two.off", tri + "2 0 1\n");
  expect_invalid_input([&] { read_mesh_text(two); }, {"bad face size 2"});
  const std::string obj = write_file("range2.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 7\n");
  expect_invalid_input([&] { read_mesh_text(obj); }, {obj + ":4", "vertex index 6 outside [0, 3)"});
  const std::string neg = write_file("neg.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 -4\n");
  expect_invalid_input([&] { read_mesh_text(neg); }, {neg + ":4", "vertex index -1 outside"});
  // A mesh built in memory: a bad index is the caller's input error, not a crash.
  TriangleMesh mesh = read_mesh_text(write_file("ok.off", tri + "3 0 1 2\n"));
  mesh.faces.push_back({0, 1, 5});
  expect_invalid_input([&] { mesh_measure(mesh, "faces", 0, 0, 1.0); },
                       {"face 1 has vertex index 5 outside [0, 3)"});
}
