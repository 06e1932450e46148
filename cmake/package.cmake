# Debian packages with CPack (scripts/package.sh): `hybridnode` (component runtime) and
# `libhybridnode-dev` (component dev). Binary dependencies come from dpkg-shlibdeps; the -dev package
# names the -dev packages its CMake and pkg-config files need.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hybridnode)
set(CPACK_PACKAGE_VENDOR "hybridnode")
set(CPACK_PACKAGE_CONTACT "hybridnode maintainers <maintainers@hybridnode.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Video delivery from a content server first and a peer-to-peer swarm when it is loaded")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)  # with CPACK_SET_DESTDIR this is the prefix the install rules see
set(CPACK_SET_DESTDIR ON)  # install(CODE) in cmake/install.cmake puts /etc and unit files under DESTDIR
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME hybridnode)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION net)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
    "hybridnode --role=server|signal|peer: content server, signaller and peer in one binary.\n Systemd units hybridnode-server and hybridnode-signal run it as an unprivileged user.")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_SOURCE_DIR}/packaging/conffiles")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libhybridnode-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "libhybridnode: embed a content server, signaller or peer in your own libuv program.\n Headers, static and shared library, CMake package (find_package(hybridnode)) and pkg-config files.")
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libuv1-dev, libssl-dev, libcurl4-openssl-dev, libnice-dev, libglib2.0-dev, libusrsctp-dev, libmongoc-dev, libhiredis-dev, libhttp-parser-dev, libwslay-dev, nlohmann-json3-dev, pkg-config")
include(CPack)
