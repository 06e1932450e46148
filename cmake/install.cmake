# What `cmake --install` puts where. Two components, which are also the two Debian packages
# (cmake/package.cmake): `runtime` (the binary, example configs, systemd units) and `dev` (headers,
# static and shared library, CMake package and pkg-config files). Every path is relative to the prefix,
# so an install tree can be moved anywhere.
include(CMakePackageConfigHelpers)

install(TARGETS hybridnode RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(TARGETS ${HN_LIB_TARGETS} EXPORT hybridnodeTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev NAMELINK_COMPONENT dev)
install(DIRECTORY include/hybridnode DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/include/hybridnode/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/hybridnode COMPONENT dev)

set(HN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/hybridnode)
install(EXPORT hybridnodeTargets NAMESPACE hybridnode:: DESTINATION ${HN_CMAKE_DIR} COMPONENT dev)
configure_file(cmake/hybridnode-config.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/hybridnode-config.cmake @ONLY)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/hybridnode-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/hybridnode-config.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/hybridnode-config-version.cmake
  DESTINATION ${HN_CMAKE_DIR} COMPONENT dev)

# pkg-config: the prefix is found from the .pc file's own place (${pcfiledir}), so it is relocatable.
# hybridnode.pc links the shared library; hybridnode-static.pc the archive and everything it needs.
set(HN_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH HN_PC_TO_PREFIX /prefix/${HN_PC_DIR} /prefix)
string(REGEX REPLACE "/$" "" HN_PC_TO_PREFIX "${HN_PC_TO_PREFIX}")
configure_file(cmake/hybridnode.pc.in ${CMAKE_CURRENT_BINARY_DIR}/hybridnode.pc @ONLY)
configure_file(cmake/hybridnode-static.pc.in ${CMAKE_CURRENT_BINARY_DIR}/hybridnode-static.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/hybridnode.pc ${CMAKE_CURRENT_BINARY_DIR}/hybridnode-static.pc
  DESTINATION ${HN_PC_DIR} COMPONENT dev)

# Example configs and systemd units. In a Debian package (prefix /usr) they go to /etc/hybridnode and
# /lib/systemd/system; under any other prefix they stay inside it (PREFIX/etc/hybridnode, PREFIX/lib/systemd/system).
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(hn_etc \"/etc/hybridnode\")
    set(hn_units \"/lib/systemd/system\")
  else()
    set(hn_etc \"\${CMAKE_INSTALL_PREFIX}/etc/hybridnode\")
    set(hn_units \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
  endif()
  # file(INSTALL) prefixes DESTDIR itself.
  file(INSTALL DESTINATION \"\${hn_etc}\" TYPE FILE FILES
       \"${CMAKE_CURRENT_SOURCE_DIR}/config/server.json\" \"${CMAKE_CURRENT_SOURCE_DIR}/config/signal.json\"
       \"${CMAKE_CURRENT_SOURCE_DIR}/config/peer.json\")
  file(INSTALL DESTINATION \"\${hn_units}\" TYPE FILE FILES
       \"${CMAKE_CURRENT_SOURCE_DIR}/packaging/hybridnode-server.service\"
       \"${CMAKE_CURRENT_SOURCE_DIR}/packaging/hybridnode-signal.service\")
" COMPONENT runtime)
