// SPDX-License-Identifier: BSD-3-Clause
// parot-inspect's library part: print a parot file's schema and summary.
#include <iomanip>
#include <sstream>

#include "io/h5.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/io/hdf5.hpp"

namespace parot::io {

namespace {

herr_t print_attribute(hid_t object, const char* name, const H5A_info_t*, void* data) {
  auto& os = *static_cast<std::ostringstream*>(data);
  if (auto s = h5::read_string_attribute(object, name)) {
    os << "  " << std::left << std::setw(24) << name << " " << *s << "\n";
  } else if (auto v = h5::read_number_attribute(object, name)) {
    os << "  " << std::left << std::setw(24) << name << " " << std::setprecision(12) << *v << "\n";
  }
  return 0;
}

herr_t print_object(hid_t root, const char* name, const H5O_info_t* info, void* data) {
  auto& os = *static_cast<std::ostringstream*>(data);
  if (info->type != H5O_TYPE_DATASET) return 0;
  h5::Handle set(H5Dopen2(root, name, H5P_DEFAULT), H5Dclose);
  h5::Handle space(H5Dget_space(set.id()), H5Sclose);
  h5::Handle type(H5Dget_type(set.id()), H5Tclose);
  const int rank = H5Sget_simple_extent_ndims(space.id());
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr);
  os << "  /" << std::left << std::setw(22) << name << " [";
  for (std::size_t k = 0; k < dims.size(); ++k)
    os << (k ? ", " : "") << dims[k];
  const H5T_class_t cls = H5Tget_class(type.id());
  os << "] "
     << (cls == H5T_FLOAT     ? "float"
         : cls == H5T_INTEGER ? "int"
                              : "other")
     << 8 * H5Tget_size(type.id()) << "\n";
  return 0;
}

}  // namespace

void inspect(MPI_Comm comm, const std::string& path, std::ostream& os) {
  h5::Handle file = h5::open_read(comm, path);
  const auto format = h5::read_string_attribute(file.id(), "format");
  PAROT_CHECK(format && (*format == problem_format || *format == result_format), InvalidInput, path,
              ": not a parot file (root attribute 'format' is ",
              format ? "'" + *format + "'" : std::string("missing"), ")");
  std::ostringstream text;
  text << path << ": " << *format << "\n"
       << "attributes:\n";
  hsize_t index = 0;
  H5Aiterate2(file.id(), H5_INDEX_NAME, H5_ITER_INC, &index, print_attribute, &text);
  text << "datasets:\n";
  H5Ovisit2(file.id(), H5_INDEX_NAME, H5_ITER_INC, print_object, &text, H5O_INFO_BASIC);
  if (comm_rank(comm) == 0) os << text.str() << std::flush;
}

}  // namespace parot::io
