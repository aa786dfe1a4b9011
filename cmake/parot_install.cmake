# SPDX-License-Identifier: BSD-3-Clause
# Installs the library, headers, drivers and the CMake package (find_package(Parot)).
include(CMakePackageConfigHelpers)

install(TARGETS parot EXPORT ParotTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/parot DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES "${PROJECT_BINARY_DIR}/include/parot/version.hpp"
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/parot)
install(EXPORT ParotTargets NAMESPACE Parot:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Parot)

configure_package_config_file(cmake/ParotConfig.cmake.in
  "${PROJECT_BINARY_DIR}/ParotConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Parot)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/ParotConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/ParotConfig.cmake" "${PROJECT_BINARY_DIR}/ParotConfigVersion.cmake"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Parot)
