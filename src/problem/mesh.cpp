// SPDX-License-Identifier: BSD-3-Clause
// Triangle meshes: OFF/OBJ reading and the surface measures of sliced.md §6.
#include "parot/problem/mesh.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <Eigen/Geometry>

#include "kernels/rng.hpp"
#include "parot/core/error.hpp"

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

TriangleMesh read_off(std::ifstream& in, const std::string& path) {
  std::vector<std::string> tokens;
  std::string line;
  long lineno = 0;
  std::vector<long> token_line;
  while (std::getline(in, line)) {
    ++lineno;
    line = line.substr(0, line.find('#'));
    std::istringstream ls(line);
    for (std::string t; ls >> t;) {
      tokens.push_back(t);
      token_line.push_back(lineno);
    }
  }
  std::size_t pos = 0;
  auto next = [&](const char* what) {
    PAROT_CHECK(pos < tokens.size(), InvalidInput, path, ": unexpected end of file reading ", what);
    return pos++;
  };
  auto number = [&](const char* what) {
    const std::size_t k = next(what);
    char* end = nullptr;
    const double v = std::strtod(tokens[k].c_str(), &end);
    PAROT_CHECK(end && *end == '\0' && std::isfinite(v), InvalidInput, path, ":", token_line[k],
                ": expected a finite number for ", what, ", got '", tokens[k], "'");
    return v;
  };
  PAROT_CHECK(!tokens.empty() && tokens[0] == "OFF", InvalidInput, path,
              ": an OFF file starts with 'OFF'");
  pos = 1;
  const double nv = number("the vertex count"), nf = number("the face count");
  number("the edge count");
  PAROT_CHECK(nv >= 3 && nf >= 1 && nv == std::floor(nv) && nf == std::floor(nf), InvalidInput,
              path, ": bad vertex or face count");
  TriangleMesh mesh;
  mesh.vertices.resize(static_cast<lindex>(nv), 3);
  for (lindex i = 0; i < mesh.vertices.rows(); ++i)
    for (int k = 0; k < 3; ++k)
      mesh.vertices(i, k) = number("a vertex coordinate");
  for (long f = 0; f < static_cast<long>(nf); ++f) {
    const std::size_t at = pos;
    const double count = number("a face size");
    std::vector<gindex> poly;
    for (long k = 0; k < static_cast<long>(count); ++k)
      poly.push_back(static_cast<gindex>(number("a face vertex")));
    add_face(mesh, poly, detail::cat(path, ":", token_line[at]));
  }
  return mesh;
}

TriangleMesh read_obj(std::ifstream& in, const std::string& path) {
  std::vector<double> coords;
  std::vector<std::pair<std::vector<gindex>, long>> polys;
  std::string line;
  long lineno = 0;
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
      std::vector<gindex> poly;
      for (std::string t; ls >> t;) {
        const long v = std::strtol(t.c_str(), nullptr, 10);  // "i", "i/t", "i/t/n", "i//n"
        PAROT_CHECK(v != 0, InvalidInput, path, ":", lineno, ": bad face vertex '", t, "'");
        poly.push_back(v > 0 ? v - 1 : static_cast<long>(coords.size() / 3) + v);
      }
      polys.emplace_back(poly, lineno);
    }
  }
  TriangleMesh mesh;
  mesh.vertices = Eigen::Map<const RowMatrix>(coords.data(), coords.size() / 3, 3);
  for (const auto& [poly, at] : polys)
    add_face(mesh, poly, detail::cat(path, ":", at));
  return mesh;
}

}  // namespace

TriangleMesh read_mesh_text(const std::string& path) {
  std::ifstream in(path);
  PAROT_CHECK(in.good(), InvalidInput, "cannot open mesh '", path, "'");
  const auto dot = path.find_last_of('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  PAROT_CHECK(ext == "off" || ext == "obj", InvalidInput, "mesh '", path,
              "': expected an .off or .obj file");
  TriangleMesh mesh = ext == "off" ? read_off(in, path) : read_obj(in, path);
  PAROT_CHECK(!mesh.faces.empty(), InvalidInput, "mesh '", path, "' has no faces");
  return mesh;
}

PointMeasure mesh_measure(const TriangleMesh& mesh, const std::string& kind, long samples,
                          long seed, double normal_scale) {
  PAROT_CHECK(!mesh.faces.empty() && mesh.vertices.cols() == 3, InvalidInput,
              "the mesh is empty or not in R^3");
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
  } else if (kind == "samples") {
    PAROT_CHECK(samples >= 1, InvalidArgument, "-mesh_samples must be >= 1, got ", samples);
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
  } else {
    throw InvalidArgument(
        "unknown mesh measure '" + kind + "' (expected samples, faces, normals or vertices)", true);
  }
  return out;
}

}  // namespace parot
