# The installed library, libvuvm-vhost: the sources of vuvm_vhost plus the
# logging they call, built once position-independent and linked both as
# libvuvm-vhost.so.0 (only the vhu_ API exported, by libvuvm-vhost.map) and
# as libvuvm-vhost.a. The in-tree programs keep linking vuvm_vhost.
# Included last from vhost/CMakeLists.txt, so that every source added to
# vuvm_vhost above is in the library too.

get_target_property(VHU_LIB_SOURCES vuvm_vhost SOURCES)
add_library(vuvm_vhost_pic OBJECT ${VHU_LIB_SOURCES} log.c)
vuvm_host_target(vuvm_vhost_pic)
set_target_properties(vuvm_vhost_pic PROPERTIES POSITION_INDEPENDENT_CODE ON)

set(VHU_MAP ${CMAKE_CURRENT_SOURCE_DIR}/libvuvm-vhost.map)
add_library(vuvm_vhost_shared SHARED $<TARGET_OBJECTS:vuvm_vhost_pic>)
set_target_properties(vuvm_vhost_shared PROPERTIES OUTPUT_NAME vuvm-vhost
	VERSION ${PROJECT_VERSION} SOVERSION 0 LINK_DEPENDS ${VHU_MAP})
target_link_options(vuvm_vhost_shared PRIVATE -Wl,--version-script=${VHU_MAP}
	$<$<NOT:$<BOOL:${VUVM_SANITIZE}>>:-Wl,--no-undefined>)
if(VUVM_SANITIZE)
	target_link_options(vuvm_vhost_shared PRIVATE
		-fsanitize=address,undefined)
endif()
target_include_directories(vuvm_vhost_shared PUBLIC ${PROJECT_SOURCE_DIR})

add_library(vuvm_vhost_static STATIC $<TARGET_OBJECTS:vuvm_vhost_pic>)
set_target_properties(vuvm_vhost_static PROPERTIES OUTPUT_NAME vuvm-vhost)

# Headers keep their in-tree paths under include/vuvm/, so that the
# library's own "vhost/protocol.h" includes resolve with the one -I that
# vuvm-vhost.pc gives: users write #include <vhost/frontend.h>.
install(TARGETS vuvm_vhost_shared vuvm_vhost_static
	LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
	ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES frontend.h protocol.h msg.h trace.h requests.h backend.h vring.h
	DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/vuvm/vhost)
file(GLOB VHU_VIRTIO_HEADERS ${PROJECT_SOURCE_DIR}/virtio/*.h)
install(FILES ${VHU_VIRTIO_HEADERS}
	DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/vuvm/virtio)
# The prefix is the one installed to (cmake --install --prefix, CPack's
# /usr), not the one configured, so the .pc is written at install time,
# straight to where it goes as install(FILES) would put it (and into the
# install manifest), not into the build tree.
install(CODE "set(prefix \"\${CMAKE_INSTALL_PREFIX}\")
	set(CMAKE_INSTALL_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
	set(CMAKE_INSTALL_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
	set(PROJECT_VERSION \"${PROJECT_VERSION}\")
	set(pc \"\$ENV{DESTDIR}\${prefix}/${CMAKE_INSTALL_LIBDIR}/pkgconfig/vuvm-vhost.pc\")
	message(STATUS \"Installing: \${pc}\")
	file(READ \"${CMAKE_CURRENT_SOURCE_DIR}/vuvm-vhost.pc.in\" in)
	file(CONFIGURE OUTPUT \"\${pc}\" CONTENT \"\${in}\" @ONLY)
	list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${pc}\")")
add_subdirectory(probe)
