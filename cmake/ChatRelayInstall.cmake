# Install rules: libchatrelay, its public headers (include/chatrelay without
# include/chatrelay/internal; the internal actors/ and broker/ headers stay
# private too), the daemon, the CMake
# package ChatRelay (target ChatRelay::chatrelay) and chatrelay.pc.
include(CMakePackageConfigHelpers)

set(CHATRELAY_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/ChatRelay")

install(TARGETS chatrelay EXPORT ChatRelayTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS chat-relayd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/chatrelay"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp"
  PATTERN "internal" EXCLUDE) # internal/: the relay's own actors, not installed
install(FILES "${PROJECT_SOURCE_DIR}/config/chat-relay.ini"
  DESTINATION "${CMAKE_INSTALL_DATADIR}/chat-relay")

install(EXPORT ChatRelayTargets
  NAMESPACE ChatRelay::
  FILE ChatRelayTargets.cmake
  DESTINATION "${CHATRELAY_CMAKE_DIR}")
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/ChatRelayConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/ChatRelayConfig.cmake"
  INSTALL_DESTINATION "${CHATRELAY_CMAKE_DIR}")
# 0.x: only the same minor version is compatible.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/ChatRelayConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/ChatRelayConfig.cmake"
  "${PROJECT_BINARY_DIR}/ChatRelayConfigVersion.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake"
  DESTINATION "${CHATRELAY_CMAKE_DIR}")

# pkg-config: relocatable (paths relative to the .pc file). A static
# libchatrelay needs rabbitmq-c at link time, a shared one does not.
if(CHATRELAY_SHARED)
  set(CHATRELAY_PC_REQUIRES_PRIVATE "")
else()
  set(CHATRELAY_PC_REQUIRES_PRIVATE "librabbitmq")
endif()
file(RELATIVE_PATH CHATRELAY_PC_TO_PREFIX
  "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file("${PROJECT_SOURCE_DIR}/cmake/chatrelay.pc.in"
  "${PROJECT_BINARY_DIR}/chatrelay.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/chatrelay.pc"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
