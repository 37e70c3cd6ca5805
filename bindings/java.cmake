# Java: libgptq_jni.so (the JNI glue) and gptq.jar (generated classes and
# the API in bindings/java/src), JUnit 4 tests, the example.

find_package(Java 11 COMPONENTS Development)
# FindJNI looks in JAVA_HOME; without one, take the JDK that javac is from.
if(Java_JAVAC_EXECUTABLE AND NOT JAVA_HOME AND NOT DEFINED ENV{JAVA_HOME})
  file(REAL_PATH ${Java_JAVAC_EXECUTABLE} javac_path)
  cmake_path(GET javac_path PARENT_PATH javac_bin)
  cmake_path(GET javac_bin PARENT_PATH JAVA_HOME)
endif()
find_package(JNI COMPONENTS JVM)
if(NOT Java_JAVAC_EXECUTABLE OR NOT Java_JAR_EXECUTABLE OR NOT JNI_INCLUDE_DIRS)
  message(STATUS "bindings: javac, jar or jni.h not found, skipping the Java binding")
  return()
endif()

set(java_dir ${CMAKE_CURRENT_BINARY_DIR}/java)
set(java_gen ${java_dir}/gen/org/libgptq)
set(java_wrapper ${java_dir}/gptq_java_wrap.c)
gptq_swig(java ${java_gen} ${java_gen} ${java_wrapper} -package org.libgptq)
gptq_glue(gptq_jni ${java_wrapper})
target_include_directories(gptq_jni PRIVATE ${JNI_INCLUDE_DIRS})

# javac takes files, not folders, and the generated names are SWIG's
# business: list them once they exist.
file(GLOB java_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/java/src/org/libgptq/*.java)
set(gptq_jar ${java_dir}/gptq.jar)
add_custom_command(OUTPUT ${gptq_jar}
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${java_dir}/classes
  COMMAND sh -c "out=$1 gen=$2; shift 2; exec \"$0\" -nowarn -encoding UTF-8 -d \"$out\" \"$@\" \"$gen\"/*.java"
    ${Java_JAVAC_EXECUTABLE} ${java_dir}/classes ${java_gen} ${java_sources}
  COMMAND ${Java_JAR_EXECUTABLE} cf ${gptq_jar} -C ${java_dir}/classes .
  DEPENDS ${java_wrapper} ${java_sources}
  COMMENT "Building gptq.jar"
  VERBATIM)
add_custom_target(gptq_java ALL DEPENDS ${gptq_jar})
add_dependencies(gptq_java gptq_jni)
install(FILES ${gptq_jar} DESTINATION ${CMAKE_INSTALL_DATADIR}/gptq/java)

set(java_run ${Java_JAVA_EXECUTABLE} -Dlibgptq.jni=$<TARGET_FILE:gptq_jni>)

if(GPTQ_BUILD_EXAMPLES)
  set(example_classes ${java_dir}/example)
  add_custom_command(OUTPUT ${example_classes}/Generate.class
    COMMAND ${Java_JAVAC_EXECUTABLE} -encoding UTF-8 -cp ${gptq_jar} -d ${example_classes}
      ${PROJECT_SOURCE_DIR}/examples/java/Generate.java
    DEPENDS ${gptq_jar} ${PROJECT_SOURCE_DIR}/examples/java/Generate.java
    VERBATIM)
  add_custom_target(gptq_java_example ALL DEPENDS ${example_classes}/Generate.class)
  add_dependencies(gptq_java_example gptq_java)
endif()

find_file(JUNIT4_JAR NAMES junit4.jar PATHS /usr/share/java)
find_file(HAMCREST_JAR NAMES hamcrest-core.jar hamcrest.jar PATHS /usr/share/java)
if(NOT GPTQ_BUILD_TESTS OR NOT JUNIT4_JAR OR NOT HAMCREST_JAR)
  message(STATUS "bindings: JUnit 4 or hamcrest not found, skipping the Java tests")
  return()
endif()
file(GLOB java_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/java/test/org/libgptq/*.java)
set(test_classes ${java_dir}/test-classes)
set(test_cp ${gptq_jar}:${test_classes}:${JUNIT4_JAR}:${HAMCREST_JAR})
add_custom_command(OUTPUT ${test_classes}/.built
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${test_classes}
  COMMAND ${Java_JAVAC_EXECUTABLE} -encoding UTF-8 -cp ${test_cp} -d ${test_classes} ${java_tests}
  COMMAND ${CMAKE_COMMAND} -E touch ${test_classes}/.built
  DEPENDS ${gptq_jar} ${java_tests}
  VERBATIM)
add_custom_target(gptq_java_tests ALL DEPENDS ${test_classes}/.built)
add_dependencies(gptq_java_tests gptq_java)
set(test_names)
foreach(source ${java_tests})
  get_filename_component(name ${source} NAME_WE)
  if(name MATCHES "Test$")
    list(APPEND test_names org.libgptq.${name})
  endif()
endforeach()
add_test(NAME bindings_java
  COMMAND ${java_run} -Xcheck:jni -cp ${test_cp} org.junit.runner.JUnitCore ${test_names})
set_tests_properties(bindings_java PROPERTIES ENVIRONMENT "${GPTQ_BINDINGS_ENV}" TIMEOUT 900)
