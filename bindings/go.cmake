# Go: the module libgptq.dev/gptq assembled in the build tree (the package
# in bindings/go plus SWIG's output as internal/raw), built with cgo against
# this build's libgptq; go test; the example.

find_program(GO_EXECUTABLE go)
if(NOT GO_EXECUTABLE)
  message(STATUS "bindings: go not found, skipping the Go binding")
  return()
endif()

set(go_dir ${CMAKE_CURRENT_BINARY_DIR}/go)
set(go_module ${go_dir}/module)
set(go_wrapper ${go_module}/internal/raw/gptq_wrap.c)
gptq_swig(go ${go_module} ${go_module}/internal/raw ${go_wrapper} -cgo -intgosize 64 -package raw)
file(GLOB_RECURSE go_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/go/*)
add_custom_command(OUTPUT ${go_wrapper} APPEND
  COMMAND ${CMAKE_COMMAND} -E copy_directory ${CMAKE_CURRENT_SOURCE_DIR}/go ${go_module}
  DEPENDS ${go_sources})

# Everything go writes stays in the build tree, and nothing is fetched:
# the module has no dependencies outside the standard library.
set(go_env ${CMAKE_COMMAND} -E env
  GOCACHE=${go_dir}/cache GOPATH=${go_dir}/path GOFLAGS=-mod=mod GOPROXY=off GO111MODULE=on
  GOTOOLCHAIN=local CGO_ENABLED=1
  "CGO_CFLAGS=-I${PROJECT_SOURCE_DIR}/include -O2"
  "CGO_LDFLAGS=-L$<TARGET_FILE_DIR:gptq> -Wl,-rpath,$<TARGET_FILE_DIR:gptq>")

add_custom_command(OUTPUT ${go_dir}/built
  COMMAND ${go_env} ${GO_EXECUTABLE} build ./...
  # SWIG's own code in internal/raw trips vet's unsafe.Pointer check.
  COMMAND ${go_env} ${GO_EXECUTABLE} vet .
  COMMAND ${CMAKE_COMMAND} -E touch ${go_dir}/built
  WORKING_DIRECTORY ${go_module}
  DEPENDS ${go_wrapper} gptq
  COMMENT "Building the Go package libgptq.dev/gptq"
  VERBATIM)
add_custom_target(gptq_go ALL DEPENDS ${go_dir}/built)

if(GPTQ_BUILD_EXAMPLES)
  # examples/go/go.mod points at build/ for a build by hand; here a copy
  # of it points at this build tree, whatever its name.
  set(go_example_mod ${go_dir}/example.mod)
  file(WRITE ${go_example_mod}.in
    "module libgptq.dev/gptq/examples/generate\n\ngo 1.19\n\nrequire libgptq.dev/gptq v0.0.0\n\nreplace libgptq.dev/gptq => ${go_module}\n")
  configure_file(${go_example_mod}.in ${go_example_mod} COPYONLY)
  add_custom_command(OUTPUT ${go_dir}/gptq-generate
    COMMAND ${go_env} ${GO_EXECUTABLE} build -modfile=${go_example_mod} -o ${go_dir}/gptq-generate .
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/examples/go
    DEPENDS ${go_dir}/built ${PROJECT_SOURCE_DIR}/examples/go/main.go
    VERBATIM)
  add_custom_target(gptq_go_example ALL DEPENDS ${go_dir}/gptq-generate)
  add_dependencies(gptq_go_example gptq_go)
endif()

if(GPTQ_BUILD_TESTS)
  add_test(NAME bindings_go
    COMMAND ${go_env} ${GPTQ_BINDINGS_ENV} ${GO_EXECUTABLE} test -count=1 -v -timeout 15m ./...
    WORKING_DIRECTORY ${go_module})
  set_tests_properties(bindings_go PROPERTIES TIMEOUT 900)
endif()
