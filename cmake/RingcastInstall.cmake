# What `cmake --install` puts under a prefix, and the package a .deb holds:
#
#   bin/ringcast, bin/protoc-gen-ringcast     the CLI and the protoc plugin
#   include/ringcast/...                      the public API (ringcast/ringcast.h),
#                                             the standard messages' generated headers
#   include/{transport,discovery,idl}/...     the few lower-layer headers the
#                                             public API and generated code name
#   lib/libringcast*.a                        the libraries
#   lib/cmake/ringcast/                       find_package(ringcast): targets
#                                             ringcast::ringcast and ringcast::msgs,
#                                             and ringcast_generate()
#   share/ringcast/proto/ringcast/...         options.proto and the msgs/ .proto files
#
# Only headers reachable from ringcast/ringcast.h and from generated code are
# installed; none of them includes a *_layout.h (tests/docs/install_test.cc).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(RINGCAST_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/ringcast)
set(RINGCAST_INSTALL_PROTODIR ${CMAKE_INSTALL_DATADIR}/ringcast/proto)

# Installed targets are ringcast::<export name>, like their in-tree aliases.
set_target_properties(ringcast_transport PROPERTIES EXPORT_NAME transport)
set_target_properties(ringcast_discovery PROPERTIES EXPORT_NAME discovery)
set_target_properties(ringcast_idl PROPERTIES EXPORT_NAME idl)
set_target_properties(ringcast_idl_options PROPERTIES EXPORT_NAME idl_options)
set_target_properties(ringcast_msgs PROPERTIES EXPORT_NAME msgs)
foreach(lib ringcast ringcast_transport ringcast_discovery ringcast_idl ringcast_idl_options
            ringcast_msgs)
  target_include_directories(${lib} PUBLIC $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()

install(TARGETS ringcast ringcast_transport ringcast_discovery ringcast_idl ringcast_idl_options
                ringcast_msgs
        EXPORT ringcast-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS ringcast_cli protoc-gen-ringcast RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Public headers: the API, and what it and generated code include.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/ringcast DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(FILES transport/chunk_ref.h transport/clock.h transport/reader.h transport/shm_options.h
              transport/status_macros.h transport/topic_config.h transport/writer.h
              transport/pool_options.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/transport)
install(FILES discovery/registry_config.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/discovery)
install(FILES idl/builder.h idl/flat_format.h idl/topic.h idl/validate.h idl/view.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/idl)
install(FILES ${PROJECT_BINARY_DIR}/idl/gen/ringcast/options.pb.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ringcast)
install(DIRECTORY ${PROJECT_BINARY_DIR}/msgs/ringcast_msgs_gen/ringcast/msgs
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ringcast FILES_MATCHING PATTERN "*.h")

# The .proto files a user's own .proto imports.
install(FILES idl/proto/ringcast/options.proto DESTINATION ${RINGCAST_INSTALL_PROTODIR}/ringcast)
install(DIRECTORY msgs/proto/ringcast/msgs DESTINATION ${RINGCAST_INSTALL_PROTODIR}/ringcast
        FILES_MATCHING PATTERN "*.proto")

install(EXPORT ringcast-targets NAMESPACE ringcast:: DESTINATION ${RINGCAST_INSTALL_CMAKEDIR})
configure_package_config_file(cmake/ringcast-config.cmake.in
  ${PROJECT_BINARY_DIR}/ringcast-config.cmake
  INSTALL_DESTINATION ${RINGCAST_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_BINDIR RINGCAST_INSTALL_PROTODIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ringcast-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ringcast-config.cmake
              ${PROJECT_BINARY_DIR}/ringcast-config-version.cmake
              cmake/RingcastGenerate.cmake
        DESTINATION ${RINGCAST_INSTALL_CMAKEDIR})

# `cpack -G DEB` in the build directory: one package with the runtime (the
# CLI, the plugin) and the development files, depending on the Debian
# packages the libraries and the plugin link and generated code needs.
set(CPACK_PACKAGE_NAME ringcast)
set(CPACK_PACKAGE_VENDOR "ringcast")
set(CPACK_PACKAGE_CONTACT "ringcast developers <ringcast@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Shared-memory publish/subscribe for processes on one Linux host")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libabsl-dev, libprotobuf-dev, libprotoc-dev, protobuf-compiler, libyaml-cpp-dev, liblz4-1, libzstd1, zlib1g")
include(CPack)
