# The frontend's tests (included from tests/vhost/CMakeLists.txt). Each test
# program runs all its cases; `<program> <case>` runs one.
add_library(frontend_test_util STATIC
	${CMAKE_CURRENT_LIST_DIR}/frontend_test_util.c)
vuvm_host_target(frontend_test_util)
target_link_libraries(frontend_test_util PUBLIC vuvm_vhost)

foreach(t frontend_wire_test frontend_reply_test frontend_precond_test
		frontend_connect_test trace_test)
	if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/${t}.c)
		add_executable(${t} ${CMAKE_CURRENT_LIST_DIR}/${t}.c)
		vuvm_host_target(${t})
		target_link_libraries(${t} PRIVATE frontend_test_util pthread)
		add_test(NAME vhost_${t} COMMAND ${t})
		set_tests_properties(vhost_${t} PROPERTIES TIMEOUT 20
			LABELS "vhost;frontend")
	endif()
endforeach()
