# What `cmake --install` puts in a prefix: the SDK as a project outside this
# tree uses it (docs/sdk.md).
#
#   include/peng/        peng.h, peng.hpp, hal.h (+ the compiler's headers)
#   lib/                 libpeng.so, libpeng.a (+ libpeng_compiler.a)
#   lib/cmake/Peng/      PengConfig.cmake: Peng::runtime, Peng::runtime_static,
#                        and Peng::compiler with COMPONENTS compiler
#   lib/pkgconfig/       peng.pc
#   bin/                 pengc, peng-run, peng-info
#
# The compiler's own rules live in compiler/CMakeLists.txt, so that a build
# without MLIR (the riscv64 preset) installs the runtime alone.
include(CMakePackageConfigHelpers)

set(PENG_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/Peng)
file(RELATIVE_PATH PENG_INSTALL_BIN_TO_LIB
  /prefix/${CMAKE_INSTALL_BINDIR} /prefix/${CMAKE_INSTALL_LIBDIR})

install(FILES
  ${PROJECT_SOURCE_DIR}/runtime/include/peng/peng.h
  ${PROJECT_SOURCE_DIR}/runtime/include/peng/peng.hpp
  ${PROJECT_SOURCE_DIR}/runtime/include/peng/hal.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/peng)
install(TARGETS peng_headers peng peng_static EXPORT PengTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT PengTargets NAMESPACE Peng:: DESTINATION ${PENG_INSTALL_CMAKEDIR})

if(PENG_BUILD_TOOLS)
  # Installed tools find libpeng.so beside them, wherever the prefix is moved.
  set_target_properties(peng-run peng-info PROPERTIES
    INSTALL_RPATH "$ORIGIN/${PENG_INSTALL_BIN_TO_LIB}")
  install(TARGETS peng-run peng-info RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/PengConfig.cmake.in
  ${PROJECT_BINARY_DIR}/PengConfig.cmake
  INSTALL_DESTINATION ${PENG_INSTALL_CMAKEDIR})
# 0.x: a new minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/PengConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/PengConfig.cmake ${PROJECT_BINARY_DIR}/PengConfigVersion.cmake
  DESTINATION ${PENG_INSTALL_CMAKEDIR})

# peng.pc finds its prefix from its own place (${pcfiledir}), so that
# `cmake --install --prefix DIR` gives a working file for any DIR.
file(RELATIVE_PATH PENG_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" PENG_PC_TO_PREFIX "${PENG_PC_TO_PREFIX}")
set(PENG_PC_DL "")
foreach(lib IN LISTS CMAKE_DL_LIBS)
  string(APPEND PENG_PC_DL " -l${lib}")
endforeach()
set(PENG_PC_OPENCL "")
if(PENG_WITH_OPENCL)
  set(PENG_PC_OPENCL " -lOpenCL")  # the opencl backend in libpeng.a
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/peng.pc.in ${PROJECT_BINARY_DIR}/peng.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/peng.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
