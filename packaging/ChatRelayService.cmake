# The daemon as an installed service: the web client, the example config
# under etc/, the systemd unit, the docs, and the Debian package (CPack).
# Included from the top-level CMakeLists.txt after the library's install rules.

# -- the web client (npm) -------------------------------------------------------
find_program(CHATRELAY_NPM npm)
set(chatrelay_web_default OFF)
if(CHATRELAY_NPM AND CHATRELAY_SANITIZE STREQUAL ""
   AND EXISTS "${PROJECT_SOURCE_DIR}/web/package.json")
  set(chatrelay_web_default ON)
endif()
option(CHATRELAY_WEB_CLIENT
  "Build the web client (npm ci + npm run build in web/) and install it"
  ${chatrelay_web_default})
set(CHATRELAY_WEB_OUT "${PROJECT_BINARY_DIR}/web")
if(CHATRELAY_WEB_CLIENT)
  if(NOT CHATRELAY_NPM)
    message(FATAL_ERROR "CHATRELAY_WEB_CLIENT=ON needs npm")
  endif()
  file(GLOB_RECURSE chatrelay_web_sources CONFIGURE_DEPENDS
    "${PROJECT_SOURCE_DIR}/web/src/*")
  add_custom_command(OUTPUT "${CHATRELAY_WEB_OUT}/index.html"
    COMMAND sh "${PROJECT_SOURCE_DIR}/packaging/build-web.sh"
            "${PROJECT_SOURCE_DIR}/web" "${CHATRELAY_WEB_OUT}"
    DEPENDS ${chatrelay_web_sources}
            "${PROJECT_SOURCE_DIR}/packaging/build-web.sh"
            "${PROJECT_SOURCE_DIR}/web/index.html"
            "${PROJECT_SOURCE_DIR}/web/package.json"
            "${PROJECT_SOURCE_DIR}/web/package-lock.json"
            "${PROJECT_SOURCE_DIR}/web/vite.config.ts"
            "${PROJECT_SOURCE_DIR}/web/tsconfig.json"
    COMMENT "Building the web client (npm) into ${CHATRELAY_WEB_OUT}"
    VERBATIM)
  add_custom_target(web-client ALL DEPENDS "${CHATRELAY_WEB_OUT}/index.html")
  install(DIRECTORY "${CHATRELAY_WEB_OUT}/"
    DESTINATION "${CMAKE_INSTALL_DATADIR}/chat-relay/web")
endif()

# -- where things go ------------------------------------------------------------
# With the prefix /usr (a distribution package) the config goes to /etc and
# the unit to systemd's unit directory; any other prefix keeps all under it.
if(CMAKE_INSTALL_FULL_SYSCONFDIR STREQUAL "/etc")
  set(chatrelay_config_dir "/etc/chat-relay")
else()
  set(chatrelay_config_dir "${CMAKE_INSTALL_SYSCONFDIR}/chat-relay")
endif()
set(CHATRELAY_FULL_CONFIG
  "${CMAKE_INSTALL_FULL_SYSCONFDIR}/chat-relay/chat-relay.ini")
set(chatrelay_unit_dir "lib/systemd/system")
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  pkg_get_variable(chatrelay_systemd_unit_dir systemd systemdsystemunitdir)
  if(chatrelay_systemd_unit_dir)
    set(chatrelay_unit_dir "${chatrelay_systemd_unit_dir}")
  else()
    set(chatrelay_unit_dir "/lib/systemd/system")
  endif()
endif()
set(chatrelay_doc_dir "${CMAKE_INSTALL_DATADIR}/doc/chat-relay")
set(CHATRELAY_FULL_DOCDIR "${CMAKE_INSTALL_PREFIX}/${chatrelay_doc_dir}")

# The daemon finds the installed web client relative to itself.
file(RELATIVE_PATH CHATRELAY_BIN_TO_WEB "/p/${CMAKE_INSTALL_BINDIR}"
  "/p/${CMAKE_INSTALL_DATADIR}/chat-relay/web")
set_property(SOURCE app/service.cpp APPEND PROPERTY COMPILE_DEFINITIONS
  "CHATRELAY_VERSION=\"${PROJECT_VERSION}\""
  "CHATRELAY_BUILD_DIR=\"${PROJECT_BINARY_DIR}\""
  "CHATRELAY_SOURCE_WEB=\"${PROJECT_SOURCE_DIR}/web/dist\""
  "CHATRELAY_BIN_TO_WEB=\"${CHATRELAY_BIN_TO_WEB}\"")

# -- config, unit, docs ---------------------------------------------------------
# 0640: the file may hold the broker password (the unit hands it over).
install(FILES "${PROJECT_SOURCE_DIR}/config/chat-relay.ini"
  DESTINATION "${chatrelay_config_dir}"
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
if(SYSTEMD_FOUND)
  set(CHATRELAY_UNIT_TYPE notify)
else()
  set(CHATRELAY_UNIT_TYPE simple)
endif()
configure_file("${PROJECT_SOURCE_DIR}/packaging/chat-relayd.service.in"
  "${PROJECT_BINARY_DIR}/chat-relayd.service" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/chat-relayd.service"
  DESTINATION "${chatrelay_unit_dir}")
install(FILES "${PROJECT_SOURCE_DIR}/README.md"
  DESTINATION "${chatrelay_doc_dir}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/docs/"
  DESTINATION "${chatrelay_doc_dir}")

# -- the Debian package: cpack -G DEB (configure with -DCMAKE_INSTALL_PREFIX=/usr)
set(CPACK_PACKAGE_NAME "chat-relay")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "chat-relay maintainers <chat-relay@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "chat relay daemon: browsers chat through RabbitMQ (STOMP over WebSocket)")
set(CPACK_PACKAGE_DESCRIPTION
  "chat-relayd consumes logins and chat messages from RabbitMQ, stamps them and publishes each once to its room. Includes the web client, a systemd unit, the library and its headers for embedding.")
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "rabbitmq-server")
configure_file("${PROJECT_SOURCE_DIR}/packaging/deb/conffiles.in"
  "${PROJECT_BINARY_DIR}/deb/conffiles" @ONLY)
foreach(script postinst prerm postrm)
  file(COPY "${PROJECT_SOURCE_DIR}/packaging/deb/${script}"
    DESTINATION "${PROJECT_BINARY_DIR}/deb")
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${PROJECT_BINARY_DIR}/deb/conffiles" "${PROJECT_BINARY_DIR}/deb/postinst"
  "${PROJECT_BINARY_DIR}/deb/prerm" "${PROJECT_BINARY_DIR}/deb/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
