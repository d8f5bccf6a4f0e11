# Finds Debian's CAF 0.17 (libcaf-dev), which ships no CMake package file.
# Defines the imported targets CAF::core and CAF::io.
#
# CAF_ROOT (a prefix with include/ and lib/): use that CAF and nothing else, e.g. the
# TSan-instrumented build of scripts/build-caf-tsan.sh (scripts/test.sh, stage tsan). Changing it
# in an existing build directory re-finds everything.
if(NOT "${CAF_ROOT}" STREQUAL "${_CAF_ROOT_FOUND_IN}")
  unset(CAF_INCLUDE_DIR CACHE)
  unset(CAF_CORE_LIBRARY CACHE)
  unset(CAF_IO_LIBRARY CACHE)
  set(_CAF_ROOT_FOUND_IN "${CAF_ROOT}" CACHE INTERNAL "CAF_ROOT of the cached CAF paths")
endif()
if(CAF_ROOT)
  # Only there: a silent fall-back to the system's uninstrumented CAF would hide every race.
  set(_caf_where PATHS "${CAF_ROOT}" NO_DEFAULT_PATH)
else()
  set(_caf_where)
endif()
find_path(CAF_INCLUDE_DIR caf/all.hpp ${_caf_where} PATH_SUFFIXES include)
find_library(CAF_CORE_LIBRARY caf_core ${_caf_where} PATH_SUFFIXES lib)
find_library(CAF_IO_LIBRARY caf_io ${_caf_where} PATH_SUFFIXES lib)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF
  REQUIRED_VARS CAF_INCLUDE_DIR CAF_CORE_LIBRARY CAF_IO_LIBRARY)
if(CAF_FOUND)
  find_package(Threads REQUIRED)
  if(NOT TARGET CAF::core)
    add_library(CAF::core UNKNOWN IMPORTED)
    set_target_properties(CAF::core PROPERTIES
      IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES Threads::Threads)
  endif()
  if(NOT TARGET CAF::io)
    add_library(CAF::io UNKNOWN IMPORTED)
    set_target_properties(CAF::io PROPERTIES
      IMPORTED_LOCATION "${CAF_IO_LIBRARY}"
      INTERFACE_LINK_LIBRARIES CAF::core)
  endif()
endif()
mark_as_advanced(CAF_INCLUDE_DIR CAF_CORE_LIBRARY CAF_IO_LIBRARY)
unset(_caf_where)
