# ringcast_generate(<target>
#     PROTOS <file.proto>...            the .proto files to compile
#     [PROTO_ROOT <dir>]                import root the PROTOS live under;
#                                       default: CMAKE_CURRENT_SOURCE_DIR
#     [IMPORT_DIRS <dir>...]            more import roots
#     [LINK <target>...]                libraries of imported .proto files
#                                       (other ringcast_generate targets; their
#                                       import roots are added too)
#     [WARNINGS_AS_ERRORS])             compile our generated code with
#                                       -Wall -Wextra -Werror (protoc's own
#                                       .pb.cc never gets -Werror)
#
# Runs protoc with its C++ generator and protoc-gen-ringcast on each file and
# makes a static library <target> of the results. For a/b/c.proto under the
# root it generates a/b/c.pb.{h,cc} (the protobuf classes) and
# a/b/c.ringcast.{h,cc} (the flat types); include them as "a/b/c.ringcast.h".
#
# Inside ringcast the plugin is the protoc-gen-ringcast target; an installed
# package sets RINGCAST_PROTOC_GEN to the plugin's path.
include_guard(GLOBAL)

function(ringcast_generate target)
  cmake_parse_arguments(RG "WARNINGS_AS_ERRORS" "PROTO_ROOT" "PROTOS;IMPORT_DIRS;LINK" ${ARGN})
  if(NOT RG_PROTOS)
    message(FATAL_ERROR "ringcast_generate(${target}): PROTOS is empty; name at least one .proto")
  endif()
  if(NOT RG_PROTO_ROOT)
    set(RG_PROTO_ROOT ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
  get_filename_component(root ${RG_PROTO_ROOT} ABSOLUTE)
  if(TARGET protoc-gen-ringcast)
    set(plugin $<TARGET_FILE:protoc-gen-ringcast>)
    set(plugin_dep protoc-gen-ringcast)
  elseif(RINGCAST_PROTOC_GEN)
    set(plugin ${RINGCAST_PROTOC_GEN})
    set(plugin_dep ${RINGCAST_PROTOC_GEN})
  else()
    message(FATAL_ERROR "ringcast_generate(${target}): no protoc-gen-ringcast target and RINGCAST_PROTOC_GEN is not set")
  endif()

  set(import_dirs ${root} ${RG_IMPORT_DIRS})
  foreach(lib ${RG_LINK})
    get_target_property(dirs ${lib} RINGCAST_IMPORT_DIRS)
    if(dirs)
      list(APPEND import_dirs ${dirs})
    endif()
  endforeach()
  list(APPEND import_dirs ${RINGCAST_PROTO_DIR} ${Protobuf_INCLUDE_DIR})
  list(REMOVE_DUPLICATES import_dirs)
  set(import_args)
  foreach(dir ${import_dirs})
    list(APPEND import_args -I ${dir})
  endforeach()

  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}_gen)
  set(pb_srcs)
  set(rc_srcs)
  set(headers)
  foreach(proto ${RG_PROTOS})
    get_filename_component(abs ${proto} ABSOLUTE)
    file(RELATIVE_PATH rel ${root} ${abs})
    if(rel MATCHES "^\\.\\.")
      message(FATAL_ERROR "ringcast_generate(${target}): ${proto} is not under PROTO_ROOT ${root}")
    endif()
    string(REGEX REPLACE "\\.proto$" "" base ${rel})
    set(gen ${out}/${base}.pb.h ${out}/${base}.pb.cc ${out}/${base}.ringcast.h
            ${out}/${base}.ringcast.cc)
    add_custom_command(
      OUTPUT ${gen}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out}
      # The plugin may be an ASan build: its exit-time leak report is not
      # the build's business.
      COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0
              ${Protobuf_PROTOC_EXECUTABLE} --plugin=protoc-gen-ringcast=${plugin}
              --cpp_out=${out} --ringcast_out=${out} ${import_args} ${abs}
      DEPENDS ${abs} ${plugin_dep}
      COMMENT "ringcast_generate ${rel}"
      VERBATIM)
    list(APPEND pb_srcs ${out}/${base}.pb.cc)
    list(APPEND rc_srcs ${out}/${base}.ringcast.cc)
    list(APPEND headers ${out}/${base}.pb.h ${out}/${base}.ringcast.h)
  endforeach()

  add_library(${target} ${pb_srcs} ${rc_srcs} ${headers})
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${out}>)
  target_link_libraries(${target} PUBLIC ringcast::idl protobuf::libprotobuf ${RG_LINK})
  set_target_properties(${target} PROPERTIES RINGCAST_IMPORT_DIRS "${import_dirs}")
  if(RG_WARNINGS_AS_ERRORS)
    set_source_files_properties(${rc_srcs} TARGET_DIRECTORY ${target}
                                PROPERTIES COMPILE_OPTIONS "-Wall;-Wextra;-Werror")
  endif()
endfunction()
