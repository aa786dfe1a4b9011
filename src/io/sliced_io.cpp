// SPDX-License-Identifier: BSD-3-Clause
// Files of the sliced estimators: replicated measure pairs, batch files, sliced result files.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "io/atomic_file.hpp"
#include "io/h5.hpp"
#include "kernels/huge_pages.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/core/memory.hpp"
#include "parot/io/hdf5.hpp"
#include "parot/problem/measure.hpp"
#include "parot/version.hpp"

namespace parot::io {

namespace {

// Every reader here wants whole datasets on every rank (replicated measures), so each rank opens
// the file with HDF5's default (POSIX) driver and reads on its own: no collective MPI-IO
// transfer, whose two-phase aggregation made reading 10^6 points take about a second. Same
// checks and messages as h5::open_read; errors stay collective.
h5::Handle open_replicated(MPI_Comm comm, const std::string& path) {
  h5::silence();
  const bool found = std::filesystem::is_regular_file(path);
  check_all(comm, found, ErrorKind::invalid_input, "cannot open '" + path + "': no such file");
  const bool is_hdf5 = H5Fis_hdf5(path.c_str()) > 0;
  check_all(comm, is_hdf5, ErrorKind::invalid_input,
            "cannot open '" + path + "': not an HDF5 file (or truncated)");
  h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  check_all(comm, file.valid(), ErrorKind::invalid_input,
            "cannot open '" + path + "': HDF5 could not open it (corrupt or truncated)");
  return file;
}

void check_format(hid_t file, const std::string& path, const char* format) {
  const auto fmt = h5::read_string_attribute(file, "format");
  PAROT_CHECK(fmt && *fmt == format, InvalidInput, path, ": attribute 'format' is ",
              fmt ? "'" + *fmt + "'" : std::string("missing"), ", expected '", format, "'");
  const auto version = h5::read_number_attribute(file, "format_version");
  PAROT_CHECK(version && *version == 1, InvalidInput, path,
              ": format_version must be 1 (this parot reads version 1)");
}

// Checks a float dataset of rank 1 (cols == 1) or 2 and its extent against -max_memory (the
// data and one copy of it), before anything is allocated.
void whole_shape(MPI_Comm comm, hid_t file, const std::string& path, const std::string& name,
                 std::uint64_t& rows, std::uint64_t& cols, int rank_expected) {
  const auto info = h5::dataset_info(file, name, path);
  PAROT_CHECK(info.type_class == H5T_FLOAT || info.type_class == H5T_INTEGER, InvalidInput, path,
              ": ", name, " must be numeric");
  PAROT_CHECK(static_cast<int>(info.shape.size()) == rank_expected, InvalidInput, path, ": ", name,
              " must have rank ", rank_expected, ", it has ", info.shape.size());
  rows = info.shape[0];
  cols = rank_expected == 2 ? info.shape[1] : 1;
  check_memory(comm, 16.0 * static_cast<double>(rows) * static_cast<double>(cols),
               detail::cat(path, ": ", name, " (", rows, " x ", cols, " values)"));
}

// Reads the whole dataset into `out` (rows × cols doubles), on this rank alone; the failure
// check is collective. Large buffers are advised huge pages first (kernels/huge_pages.hpp).
void read_into(MPI_Comm comm, hid_t file, const std::string& path, const std::string& name,
               std::uint64_t count, double* out) {
  if (count > 0) kernels::advise_huge_pages(out, count * sizeof(double));
  h5::Handle set(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
  double dummy = 0;  // HDF5 wants a buffer even for an empty dataset
  const bool ok = set.valid() && H5Dread(set.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                         count == 0 ? &dummy : out) >= 0;
  check_all(comm, ok, ErrorKind::invalid_input, path + ": reading " + name + " failed");
}

// Reads a whole float dataset of rank 1 (cols == 1) or 2 on every rank, after shape checks.
std::vector<double> read_whole(MPI_Comm comm, hid_t file, const std::string& path,
                               const std::string& name, std::uint64_t& rows, std::uint64_t& cols,
                               int rank_expected) {
  whole_shape(comm, file, path, name, rows, cols, rank_expected);
  std::vector<double> data(rows * cols);
  read_into(comm, file, path, name, data.size(), data.data());
  return data;
}

PointMeasure make_measure(MPI_Comm comm, const std::vector<double>& points,
                          const std::vector<double>& weights, std::uint64_t begin,
                          std::uint64_t end, std::uint64_t d, const std::string& what) {
  Measure m;
  const auto n = static_cast<gindex>(end - begin);
  m.layout = Layout::replicated(comm, n);
  m.points = Eigen::Map<const RowMatrix>(points.data() + begin * d, n, static_cast<lindex>(d));
  m.weights = Eigen::Map<const Vector>(weights.data() + begin, n);
  PAROT_CHECK(n > 0, InvalidInput, what, " is empty");
  validate_measure(m, what);
  return PointMeasure{std::move(m.points), std::move(m.weights)};
}

// Points and weights of one measure, read straight into the measure's storage (no copy).
PointMeasure read_point_measure(MPI_Comm comm, hid_t file, const std::string& path,
                                const std::string& role, std::uint64_t& d) {
  std::uint64_t n, nw, one;
  const std::string points = "/" + role + "/points", weights = "/" + role + "/weights";
  Measure m;
  whole_shape(comm, file, path, points, n, d, 2);
  m.points.resize(static_cast<lindex>(n), static_cast<lindex>(d));
  read_into(comm, file, path, points, n * d, m.points.data());
  whole_shape(comm, file, path, weights, nw, one, 1);
  PAROT_CHECK(n == nw, DimensionMismatch, path, ": points and weights have different lengths");
  m.weights.resize(static_cast<lindex>(n));
  read_into(comm, file, path, weights, n, m.weights.data());
  const std::string what = path + ": " + role;
  PAROT_CHECK(n > 0, InvalidInput, what, " is empty");
  m.layout = Layout::replicated(comm, static_cast<gindex>(n));
  validate_measure(m, what);
  return PointMeasure{std::move(m.points), std::move(m.weights)};
}

}  // namespace

std::pair<PointMeasure, PointMeasure> read_measure_pair(MPI_Comm comm, const std::string& path) {
  h5::Handle file = open_replicated(comm, path);
  check_format(file.id(), path, problem_format);
  std::uint64_t ds, dt;
  PointMeasure source = read_point_measure(comm, file.id(), path, "source", ds);
  PointMeasure target = read_point_measure(comm, file.id(), path, "target", dt);
  PAROT_CHECK(ds == dt, DimensionMismatch, path, ": source points have dimension ", ds,
              " but target points have dimension ", dt);
  return {std::move(source), std::move(target)};
}

TriangleMesh read_mesh(MPI_Comm comm, const std::string& path, const std::string& role) {
  const bool hdf5 =
      path.size() > 3 && (path.substr(path.size() - 3) == ".h5" ||
                          (path.size() > 5 && path.substr(path.size() - 5) == ".hdf5"));
  if (!hdf5) return read_mesh_text(path);  // the same parse on every rank: collective errors
  h5::Handle file = open_replicated(comm, path);
  std::uint64_t nv, d, nf, k;
  const auto v = read_whole(comm, file.id(), path, "/" + role + "/vertices", nv, d, 2);
  const auto f = read_whole(comm, file.id(), path, "/" + role + "/faces", nf, k, 2);
  PAROT_CHECK(d == 3 && k == 3, DimensionMismatch, path, ": /", role,
              "/vertices must be [N, 3] and /", role, "/faces [M, 3]");
  TriangleMesh mesh;
  mesh.vertices = Eigen::Map<const RowMatrix>(v.data(), static_cast<lindex>(nv), 3);
  PAROT_CHECK(mesh.vertices.allFinite(), InvalidInput, path, ": /", role,
              "/vertices holds a non-finite value");
  for (std::uint64_t i = 0; i < nf; ++i) {
    std::array<gindex, 3> tri;
    for (int c = 0; c < 3; ++c) {
      const double x = f[i * 3 + c];
      PAROT_CHECK(x >= 0 && x < static_cast<double>(nv) && x == std::floor(x), InvalidInput, path,
                  ": /", role, "/faces row ", i, " has a bad vertex index ", x);
      tri[c] = static_cast<gindex>(x);
    }
    mesh.faces.push_back(tri);
  }
  return mesh;
}

std::vector<PointMeasure> read_batch(MPI_Comm comm, const std::string& path) {
  h5::Handle file = open_replicated(comm, path);
  check_format(file.id(), path, batch_format);
  std::uint64_t t, d, tw, nk, one;
  const auto x = read_whole(comm, file.id(), path, "/measures/points", t, d, 2);
  const auto w = read_whole(comm, file.id(), path, "/measures/weights", tw, one, 1);
  const auto off = read_whole(comm, file.id(), path, "/measures/offsets", nk, one, 1);
  PAROT_CHECK(t == tw, DimensionMismatch, path, ": /measures/points has ", t,
              " rows but /measures/weights has ", tw);
  // Every offset against the rows the file has, before any measure is made.
  for (std::uint64_t k = 0; k < nk; ++k)
    PAROT_CHECK(!(off[k] > static_cast<double>(t)), InvalidInput, path, ": /measures/offsets[", k,
                "] = ", off[k], " claims more rows than /measures/points has (", t, ")");
  PAROT_CHECK(nk >= 2 && off.front() == 0 && off.back() == static_cast<double>(t), InvalidInput,
              path, ": /measures/offsets must start at 0 and end at ", t);
  for (std::uint64_t k = 0; k + 1 < nk; ++k)
    PAROT_CHECK(off[k + 1] > off[k] && off[k + 1] == std::floor(off[k + 1]), InvalidInput, path,
                ": /measures/offsets must be increasing integers (measure ", k, " is empty)");
  std::vector<PointMeasure> batch;
  for (std::uint64_t k = 0; k + 1 < nk; ++k) {
    batch.push_back(make_measure(comm, x, w, static_cast<std::uint64_t>(off[k]),
                                 static_cast<std::uint64_t>(off[k + 1]), d,
                                 detail::cat(path, ": measure ", k)));
  }
  return batch;
}

void write_batch(MPI_Comm comm, const std::string& path, const std::vector<PointMeasure>& batch,
                 const std::map<std::string, std::string>& attributes) {
  const bool root = comm_rank(comm) == 0;
  std::vector<double> points, weights;
  std::vector<std::int64_t> offsets = {0};
  const auto d = static_cast<std::uint64_t>(batch.empty() ? 0 : batch[0].points.cols());
  for (const auto& m : batch) {
    points.insert(points.end(), m.points.data(), m.points.data() + m.points.size());
    weights.insert(weights.end(), m.weights.data(), m.weights.data() + m.weights.size());
    offsets.push_back(offsets.back() + m.weights.size());
  }
  const auto t = static_cast<std::uint64_t>(weights.size());
  const double bytes =
      8.0 * static_cast<double>(t) * static_cast<double>(d + 1) + 8.0 * offsets.size() + 16384;
  h5::AtomicFile file(comm, path, bytes);
  {
    h5::write_attribute(file.id(), "format", std::string(batch_format));
    h5::write_attribute(file.id(), "format_version", std::int64_t{batch_format_version});
    h5::write_attribute(file.id(), "measures", static_cast<std::int64_t>(batch.size()));
    for (const auto& [key, value] : attributes)
      h5::write_attribute(file.id(), key, value);
    h5::write_rows(file, "/measures/points", t, d, 0, root ? t : 0, points.data());
    h5::write_rows(file, "/measures/weights", t, 0, 0, root ? t : 0, weights.data());
    h5::write_rows(file, "/measures/offsets", offsets.size(), 0, 0, root ? offsets.size() : 0,
                   offsets.data());
  }
  file.commit();
}

void write_sliced_result(MPI_Comm comm, const std::string& path, const SlicedParams& params,
                         const SlicedResult* pair, const RowMatrix* distance_rows, gindex row_begin,
                         gindex rows, const RunInfo& info) {
  const bool root = comm_rank(comm) == 0;
  double bytes = 16384;
  if (pair) bytes += 8.0 * static_cast<double>(pair->direction.size());
  if (distance_rows)
    bytes += 8.0 * static_cast<double>(distance_rows->cols()) *
             static_cast<double>(distance_rows->cols());
  h5::AtomicFile file(comm, path, bytes);
  {
    const hid_t id = file.id();
    h5::write_attribute(id, "format", std::string(result_format));
    h5::write_attribute(id, "format_version", std::int64_t{result_format_version});
    h5::write_attribute(id, "version", std::string(PAROT_VERSION_STRING));
    h5::write_attribute(id, "solver", std::string("sliced"));
    h5::write_attribute(id, "nranks", static_cast<std::int64_t>(info.nranks));
    h5::write_attribute(id, "options", info.options);
    h5::write_attribute(id, "wall_time", info.wall_time);
    for (const auto& [key, value] : info.extra)
      h5::write_attribute(id, key, value);
    h5::make_groups(file, "/sliced/x");
    h5::Handle group(H5Gopen2(id, "/sliced", H5P_DEFAULT), H5Gclose);
    const hid_t g = group.id();
    h5::write_attribute(g, "type", params.type);
    h5::write_attribute(g, "p", params.p);
    h5::write_attribute(g, "slices", static_cast<std::int64_t>(params.L));
    h5::write_attribute(g, "seed", static_cast<std::int64_t>(params.seed));
    h5::write_attribute(g, "cv", params.cv);
    h5::write_attribute(g, "kappa", params.kappa);
    if (pair) {
      h5::write_attribute(g, "sw_pp", pair->sw_pp);
      h5::write_attribute(g, "sw", pair->sw);
      h5::write_attribute(g, "stderr", pair->stderr_pp);
      h5::write_attribute(g, "plain_stderr", pair->plain_stderr_pp);
      h5::write_attribute(g, "variance_reduction", pair->variance_reduction);
      h5::write_attribute(g, "cv_fallback", static_cast<std::int64_t>(pair->cv_fallback));
      h5::write_attribute(g, "solve_time", pair->time);
      const auto size = static_cast<std::uint64_t>(pair->direction.size());
      if (size > 0 && params.type == "sw") {  // the L × d directions of the estimate
        const auto L = static_cast<std::uint64_t>(params.L);
        h5::write_rows(file, "/sliced/directions", L, size / L, 0, root ? L : 0,
                       pair->direction.data());
      } else if (size > 0) {  // Max-SW: the maximizing θ; v-DSW: the mean direction ε
        h5::write_rows(file, "/sliced/direction", size, 0, 0, root ? size : 0,
                       pair->direction.data());
      }
    }
    if (distance_rows) {
      const auto N = static_cast<std::uint64_t>(distance_rows->cols());
      h5::write_rows(file, "/sliced/distance", N, N, static_cast<std::uint64_t>(row_begin),
                     static_cast<std::uint64_t>(rows), distance_rows->data());
    }
    group.reset();
  }
  file.commit();
}

}  // namespace parot::io
