# C#: LibGptq.dll (generated classes and the API in bindings/csharp/src) and
# its P/Invoke glue libgptq_csharp.so beside it, where Mono looks first;
# NUnit tests; the example.

find_program(MCS_EXECUTABLE mcs)
find_program(MONO_EXECUTABLE mono)
if(NOT MCS_EXECUTABLE OR NOT MONO_EXECUTABLE)
  message(STATUS "bindings: mcs or mono not found, skipping the C# binding")
  return()
endif()

set(cs_dir ${CMAKE_CURRENT_BINARY_DIR}/csharp)
set(cs_wrapper ${cs_dir}/gptq_csharp_wrap.c)
gptq_swig(csharp ${cs_dir}/gen ${cs_dir}/gen ${cs_wrapper} -namespace LibGptq -dllimport gptq_csharp)
gptq_glue(gptq_csharp ${cs_wrapper})
set_target_properties(gptq_csharp PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${cs_dir})

file(GLOB cs_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/csharp/src/*.cs)
set(cs_assembly ${cs_dir}/LibGptq.dll)
# The generated file names are SWIG's business: let the shell list them.
add_custom_command(OUTPUT ${cs_assembly}
  COMMAND sh -c "out=$1 gen=$2; shift 2; exec \"$0\" -nologo -unsafe -target:library -out:\"$out\" \"$@\" \"$gen\"/*.cs"
    ${MCS_EXECUTABLE} ${cs_assembly} ${cs_dir}/gen ${cs_sources}
  DEPENDS ${cs_wrapper} ${cs_sources}
  COMMENT "Building LibGptq.dll"
  VERBATIM)
add_custom_target(gptq_csharp_assembly ALL DEPENDS ${cs_assembly})
add_dependencies(gptq_csharp_assembly gptq_csharp)
install(FILES ${cs_assembly} DESTINATION ${CMAKE_INSTALL_DATADIR}/gptq/csharp)

if(GPTQ_BUILD_EXAMPLES)
  set(cs_example ${cs_dir}/Generate.exe)
  add_custom_command(OUTPUT ${cs_example}
    COMMAND ${MCS_EXECUTABLE} -nologo -r:${cs_assembly} -out:${cs_example}
      ${PROJECT_SOURCE_DIR}/examples/csharp/Generate.cs
    DEPENDS ${cs_assembly} ${PROJECT_SOURCE_DIR}/examples/csharp/Generate.cs
    VERBATIM)
  add_custom_target(gptq_csharp_example ALL DEPENDS ${cs_example})
  add_dependencies(gptq_csharp_example gptq_csharp_assembly)
endif()

find_program(NUNIT_CONSOLE nunit-console)
find_file(NUNIT_FRAMEWORK nunit.framework.dll PATHS /usr/lib/cli PATH_SUFFIXES nunit.framework-2.6.3)
if(NOT GPTQ_BUILD_TESTS OR NOT NUNIT_CONSOLE OR NOT NUNIT_FRAMEWORK)
  message(STATUS "bindings: nunit-console or nunit.framework.dll not found, skipping the C# tests")
  return()
endif()
file(GLOB cs_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/csharp/test/*.cs)
set(cs_test_assembly ${cs_dir}/LibGptq.Tests.dll)
add_custom_command(OUTPUT ${cs_test_assembly}
  COMMAND ${MCS_EXECUTABLE} -nologo -target:library -r:${cs_assembly} -r:${NUNIT_FRAMEWORK}
    -out:${cs_test_assembly} ${cs_tests}
  DEPENDS ${cs_assembly} ${cs_tests}
  VERBATIM)
add_custom_target(gptq_csharp_tests ALL DEPENDS ${cs_test_assembly})
add_dependencies(gptq_csharp_tests gptq_csharp_assembly)
add_test(NAME bindings_csharp
  COMMAND ${NUNIT_CONSOLE} -nologo -noshadow -nothread -labels -xml=${cs_dir}/TestResult.xml ${cs_test_assembly})
set_tests_properties(bindings_csharp PROPERTIES TIMEOUT 900
  ENVIRONMENT "${GPTQ_BINDINGS_ENV};LD_LIBRARY_PATH=${cs_dir}")
