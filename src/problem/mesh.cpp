// SPDX-License-Identifier: BSD-3-Clause
// Triangle meshes: OFF/OBJ reading and the surface measures of sliced.md §6.
#include "parot/problem/mesh.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include <Eigen/Geometry>

#include "kernels/rng.hpp"
#include "parot/core/error.hpp"
#include "parot/core/memory.hpp"

namespace parot {

namespace {

struct Face {
  Eigen::Vector3d a, b, c;
  double area;
  Eigen::Vector3d normal;
};

Face face(const TriangleMesh& mesh, const std::array<gindex, 3>& f) {
  Face out;
  out.a = mesh.vertices.row(f[0]).transpose();
  out.b = mesh.vertices.row(f[1]).transpose();
  out.c = mesh.vertices.row(f[2]).transpose();
  const Eigen::Vector3d cross = (out.b - out.a).cross(out.c - out.a);
  out.area = 0.5 * cross.norm();
  out.normal = out.area > 0 ? Eigen::Vector3d(cross / cross.norm()) : Eigen::Vector3d::Zero();
  return out;
}

void add_face(TriangleMesh& mesh, const std::vector<gindex>& poly, const std::string& where) {
  PAROT_CHECK(poly.size() >= 3, InvalidInput, where, ": a face needs at least 3 vertices");
  for (gindex v : poly)
    PAROT_CHECK(v >= 0 && v < mesh.vertices.rows(), InvalidInput, where, ": vertex index ", v,
                " outside [0, ", mesh.vertices.rows(), ")");
  for (std::size_t k = 1; k + 1 < poly.size(); ++k)
    mesh.faces.push_back({poly[0], poly[k], poly[k + 1]});
}

// The tokens of a text file, line by line, with '#' comments removed; knows each token's line.
class Tokens {
 public:
  explicit Tokens(std::istream& in) : in_(in) {}
  bool next(std::string& token) {
    while (!(line_ >> token)) {
      std::string text;
      if (!std::getline(in_, text)) return false;
      ++lineno_;
      line_.clear();
      line_.str(text.substr(0, text.find('#')));
    }
    return true;
  }
  long line() const { return lineno_; }

 private:
  std::istream& in_;
  std::istringstream line_;
  long lineno_ = 0;
};

constexpr double mib = 1024.0 * 1024.0;

// Refuses a mesh whose storage would exceed the memory limit (-max_memory). Every rank parses
// the same file against the same limit, so every rank throws the same error.
void check_mesh_memory(double bytes, const std::string& where, const std::string& what) {
  PAROT_CHECK(bytes <= memory_limit(), InvalidInput, where, ": ", what, " need ", bytes / mib,
              " MiB, above the limit of ", memory_limit() / mib, " MiB per rank (-max_memory)");
}

TriangleMesh read_off(std::istream& in, const std::string& path, double file_bytes) {
  Tokens tokens(in);
  std::string token;
  auto number = [&](const char* what) {
    PAROT_CHECK(tokens.next(token), InvalidInput, path, ": unexpected end of file reading ", what);
    char* end = nullptr;
    const double v = std::strtod(token.c_str(), &end);
    PAROT_CHECK(end && *end == '\0' && std::isfinite(v), InvalidInput, path, ":", tokens.line(),
                ": expected a finite number for ", what, ", got '", token, "'");
    return v;
  };
  PAROT_CHECK(tokens.next(token) && token == "OFF", InvalidInput, path,
              ": an OFF file starts with 'OFF'");
  const double nv = number("the vertex count"), nf = number("the face count");
  number("the edge count");
  PAROT_CHECK(nv >= 3 && nf >= 1 && nv == std::floor(nv) && nf == std::floor(nf), InvalidInput,
              path, ": bad vertex or face count");
  // The header's claims against the file (each vertex is 3 numbers, each face at least 4, and a
  // number takes at least 2 bytes with its separator) and the memory limit, before allocating.
  if (file_bytes >= 0)
    PAROT_CHECK(6 * nv + 8 * nf <= file_bytes, InvalidInput, path, ": the OFF header claims ", nv,
                " vertices and ", nf, " faces, but the file has only ", file_bytes,
                " bytes (each vertex needs at least 6, each face at least 8)");
  check_mesh_memory(24 * nv + 24 * nf, path,
                    detail::cat("the OFF header's ", nv, " vertices and ", nf, " faces"));
  TriangleMesh mesh;
  mesh.vertices.resize(static_cast<lindex>(nv), 3);
  mesh.faces.reserve(static_cast<std::size_t>(nf));
  for (lindex i = 0; i < mesh.vertices.rows(); ++i)
    for (int k = 0; k < 3; ++k)
      mesh.vertices(i, k) = number("a vertex coordinate");
  std::vector<gindex> poly;
  for (long f = 0; f < static_cast<long>(nf); ++f) {
    const double count = number("a face size");
    const std::string where = detail::cat(path, ":", tokens.line());
    PAROT_CHECK(count >= 3 && count == std::floor(count) && (file_bytes < 0 || count <= file_bytes),
                InvalidInput, where, ": bad face size ", count);
    poly.clear();
    for (long k = 0; k < static_cast<long>(count); ++k) {
      const double v = number("a face vertex");
      PAROT_CHECK(v == std::floor(v), InvalidInput, path, ":", tokens.line(), ": vertex index ", v,
                  " is not an integer");
      PAROT_CHECK(v >= 0 && v < nv, InvalidInput, path, ":", tokens.line(), ": vertex index ", v,
                  " outside [0, ", static_cast<long>(nv), ")");
      poly.push_back(static_cast<gindex>(v));
    }
    add_face(mesh, poly, where);
  }
  return mesh;
}

TriangleMesh read_obj(std::istream& in, const std::string& path) {
  std::vector<double> coords;
  std::vector<gindex> indices;                      // all polygons' vertices, in order
  std::vector<std::pair<std::size_t, long>> polys;  // (end in indices, line)
  std::string line;
  long lineno = 0;
  double triangles = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::istringstream ls(line);
    std::string tag;
    if (!(ls >> tag)) continue;
    if (tag == "v") {
      double x, y, z;
      PAROT_CHECK(static_cast<bool>(ls >> x >> y >> z) && std::isfinite(x) && std::isfinite(y) &&
                      std::isfinite(z),
                  InvalidInput, path, ":", lineno, ": a vertex needs three finite coordinates");
      coords.insert(coords.end(), {x, y, z});
    } else if (tag == "f") {
      const std::size_t begin = indices.size();
      for (std::string t; ls >> t;) {
        const long v = std::strtol(t.c_str(), nullptr, 10);  // "i", "i/t", "i/t/n", "i//n"
        PAROT_CHECK(v != 0, InvalidInput, path, ":", lineno, ": bad face vertex '", t, "'");
        indices.push_back(v > 0 ? v - 1 : static_cast<long>(coords.size() / 3) + v);
      }
      polys.emplace_back(indices.size(), lineno);
      triangles += std::max(1.0, static_cast<double>(indices.size() - begin) - 2);
    } else {
      continue;
    }
    // What the mesh will hold (the coordinates twice while the matrix is built, the triangles)
    // and the parse's own lists, against the memory limit, as the file is read.
    const double bytes = 16.0 * static_cast<double>(coords.size()) +
                         8.0 * static_cast<double>(indices.size()) +
                         16.0 * static_cast<double>(polys.size()) + 24.0 * triangles;
    if (bytes > memory_limit())
      check_mesh_memory(bytes, detail::cat(path, ":", lineno),
                        detail::cat("the ", coords.size() / 3, " vertices and ", polys.size(),
                                    " faces read so far"));
  }
  TriangleMesh mesh;
  mesh.vertices = Eigen::Map<const RowMatrix>(coords.data(), coords.size() / 3, 3);
  std::vector<double>().swap(coords);
  std::size_t begin = 0;
  for (const auto& [end, at] : polys) {
    add_face(mesh, std::vector<gindex>(indices.begin() + begin, indices.begin() + end),
             detail::cat(path, ":", at));
    begin = end;
  }
  return mesh;
}

}  // namespace

TriangleMesh read_mesh_text(const std::string& path) {
  std::ifstream in(path);
  PAROT_CHECK(in.good(), InvalidInput, "cannot open mesh '", path, "'");
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  const double file_bytes = error ? -1.0 : static_cast<double>(size);  // -1: not a regular file
  const auto dot = path.find_last_of('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  PAROT_CHECK(ext == "off" || ext == "obj", InvalidInput, "mesh '", path,
              "': expected an .off or .obj file");
  TriangleMesh mesh = ext == "off" ? read_off(in, path, file_bytes) : read_obj(in, path);
  PAROT_CHECK(!mesh.faces.empty(), InvalidInput, "mesh '", path, "' has no faces");
  return mesh;
}

PointMeasure mesh_measure(const TriangleMesh& mesh, const std::string& kind, long samples,
                          long seed, double normal_scale) {
  PAROT_CHECK(kind == "samples" || kind == "faces" || kind == "normals" || kind == "vertices",
              InvalidArgument, "unknown mesh measure '", kind,
              "' (expected samples, faces, normals or vertices)");
  if (kind == "samples") {
    PAROT_CHECK(samples >= 1, InvalidArgument, "-mesh_samples must be >= 1, got ", samples);
    PAROT_CHECK(seed >= 0, InvalidArgument, "the seed of the mesh samples must be >= 0, got ",
                seed);
    const double bytes = 32.0 * static_cast<double>(samples);
    PAROT_CHECK(bytes <= memory_limit(), InvalidArgument, "-mesh_samples ", samples, " needs ",
                bytes / mib, " MiB, above the limit of ", memory_limit() / mib,
                " MiB per rank (-max_memory)");
  }
  if (kind == "normals")
    PAROT_CHECK(std::isfinite(normal_scale) && normal_scale > 0, InvalidArgument,
                "-normal_scale must be positive and finite, got ", normal_scale);
  PAROT_CHECK(!mesh.faces.empty() && mesh.vertices.cols() == 3, InvalidInput,
              "the mesh is empty or not in R^3");
  PAROT_CHECK(mesh.vertices.allFinite(), InvalidInput, "the mesh has a non-finite vertex");
  for (std::size_t k = 0; k < mesh.faces.size(); ++k)
    for (gindex v : mesh.faces[k])
      PAROT_CHECK(v >= 0 && v < mesh.vertices.rows(), InvalidInput, "the mesh's face ", k,
                  " has vertex index ", v, " outside [0, ", mesh.vertices.rows(), ")");
  std::vector<Face> faces;
  double total = 0;
  for (const auto& f : mesh.faces) {
    faces.push_back(face(mesh, f));
    total += faces.back().area;
  }
  PAROT_CHECK(total > 0 && std::isfinite(total), InvalidInput, "the mesh has zero total area");
  const auto nf = static_cast<lindex>(faces.size());
  PointMeasure out;
  if (kind == "faces" || kind == "normals") {
    const lindex d = kind == "faces" ? 3 : 6;
    out.points.resize(nf, d);
    out.weights.resize(nf);
    for (lindex k = 0; k < nf; ++k) {
      const Face& f = faces[k];
      out.points.row(k).head<3>() = ((f.a + f.b + f.c) / 3).transpose();
      if (d == 6) out.points.row(k).tail<3>() = normal_scale * f.normal.transpose();
      out.weights[k] = f.area / total;
    }
  } else if (kind == "vertices") {
    out.points = mesh.vertices;
    out.weights = Vector::Zero(mesh.vertices.rows());
    for (lindex k = 0; k < nf; ++k)
      for (gindex v : mesh.faces[k])
        out.weights[v] += faces[k].area / (3 * total);
  } else {  // samples
    std::vector<double> cdf(static_cast<std::size_t>(nf));
    double acc = 0;
    for (lindex k = 0; k < nf; ++k)
      cdf[k] = (acc += faces[k].area / total);
    out.points.resize(samples, 3);
    out.weights = Vector::Constant(samples, 1.0 / static_cast<double>(samples));
    const auto s = static_cast<std::uint64_t>(seed);
    for (long i = 0; i < samples; ++i) {
      const auto c = static_cast<std::uint64_t>(i);
      const double u = kernels::uniform01(s, 201, c) * acc;
      const auto it = std::upper_bound(cdf.begin(), cdf.end(), u);
      const Face& f = faces[std::min<std::size_t>(it - cdf.begin(), cdf.size() - 1)];
      const double r1 = std::sqrt(kernels::uniform01(s, 202, c));
      const double r2 = kernels::uniform01(s, 203, c);
      out.points.row(i) = ((1 - r1) * f.a + r1 * (1 - r2) * f.b + r1 * r2 * f.c).transpose();
    }
  }
  return out;
}

}  // namespace parot
