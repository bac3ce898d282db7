# tests/vhost/backend.cmake: tests of virtio/ (freestanding headers), the
# device-side split ring walker (vhost/vring.c) and the vhost-user backend
# side (vhost/backend.c), plus the frontend <-> backend end-to-end test.

# --- virtio/ headers: freestanding and self-contained ----------------------
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
	OUTPUT_VARIABLE VIRTIO_TEST_CC_INC OUTPUT_STRIP_TRAILING_WHITESPACE)

file(GLOB VIRTIO_TEST_HEADERS RELATIVE ${PROJECT_SOURCE_DIR}/virtio
	CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/virtio/*.h)
set(VIRTIO_TEST_UNITS ${CMAKE_CURRENT_SOURCE_DIR}/virtio_headers.c)
foreach(hdr ${VIRTIO_TEST_HEADERS})
	string(REPLACE ".h" ".c" unit ${hdr})
	set(unit ${CMAKE_CURRENT_BINARY_DIR}/virtio_alone/${unit})
	file(CONFIGURE OUTPUT ${unit}
		CONTENT "#include \"virtio/${hdr}\"\nextern int virtio_alone;\n")
	list(APPEND VIRTIO_TEST_UNITS ${unit})
endforeach()

set(VIRTIO_TEST_STRICT -ffreestanding -Wall -Wextra -Werror -Wshadow
	-Wstrict-prototypes -Wmissing-prototypes -Wcast-align -Wconversion
	-Wno-sign-conversion)

# Strict ISO C11, freestanding.
add_library(virtio_headers_c11 OBJECT ${VIRTIO_TEST_UNITS})
set_target_properties(virtio_headers_c11 PROPERTIES C_EXTENSIONS OFF)
target_compile_options(virtio_headers_c11 PRIVATE ${VIRTIO_TEST_STRICT}
	-pedantic-errors)
target_include_directories(virtio_headers_c11 PRIVATE ${PROJECT_SOURCE_DIR})

# No system include path at all: only the compiler's own headers.
add_library(virtio_headers_nostdinc OBJECT ${VIRTIO_TEST_UNITS})
# (-isystem by hand: CMake drops the compiler's implicit include directories
# from target_include_directories, which -nostdinc would then miss.)
target_compile_options(virtio_headers_nostdinc PRIVATE ${VIRTIO_TEST_STRICT}
	-nostdinc "SHELL:-isystem ${VIRTIO_TEST_CC_INC}")
target_include_directories(virtio_headers_nostdinc PRIVATE
	${PROJECT_SOURCE_DIR})

# The objects above are part of the normal build; this test rebuilds them so
# that `ctest` alone also reports a header that stopped being freestanding.
add_test(NAME virtio_headers_freestanding
	COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR}
		--target virtio_headers_c11 virtio_headers_nostdinc)

# --- the ring walker and the backend side ----------------------------------
# Each program runs all its cases; `<program> <case>` runs one.
foreach(t vring_test vring_packed_test backend_test e2e_frontend_backend)
	add_executable(${t} ${CMAKE_CURRENT_LIST_DIR}/${t}.c)
	vuvm_host_target(${t})
	target_link_libraries(${t} PRIVATE vuvm_vhost pthread)
	add_test(NAME vhost_${t} COMMAND ${t})
	set_tests_properties(vhost_${t} PROPERTIES TIMEOUT 30
		LABELS "vhost;backend")
endforeach()
