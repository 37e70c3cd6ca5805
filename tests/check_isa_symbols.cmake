# Fails when an object compiled for AVX2 or AVX-512 (kernels/cpu/*_avx2.cpp,
# *_avx512.cpp) defines any global symbol besides its kernel_set_<isa>()
# entry point: such a symbol (an inline function emitted as a weak symbol)
# could be the copy the linker keeps for baseline code, which would then
# crash on a CPU without those instructions. See kernels/cpu/kernel_set.h.
#
#   cmake -DNM=<nm> -DOBJECTS=<list of objects> -P check_isa_symbols.cmake
set(checked 0)
foreach(object IN LISTS OBJECTS)
  if(NOT object MATCHES "_avx(2|512)\\.cpp\\.o(bj)?$")
    continue()
  endif()
  math(EXPR checked "${checked} + 1")
  execute_process(COMMAND ${NM} --defined-only --extern-only -C ${object}
                  OUTPUT_VARIABLE symbols RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${object}")
  endif()
  string(REPLACE "\n" ";" lines "${symbols}")
  foreach(line IN LISTS lines)
    if(line STREQUAL "" OR line MATCHES "gptq::cpu::kernel_set_avx(2|512)\\(\\)$")
      continue()
    endif()
    message(SEND_ERROR "${object} defines a shared symbol: ${line}")
  endforeach()
endforeach()
if(checked EQUAL 0)
  message(FATAL_ERROR "no *_avx2 / *_avx512 object among: ${OBJECTS}")
endif()
message(STATUS "${checked} ISA objects define only their entry points")
