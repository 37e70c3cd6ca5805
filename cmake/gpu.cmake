# The GPU backend's sources and libraries (included by the top-level
# CMakeLists.txt after gptq_objects is defined).
#
# CUDA: kernels/cuda/*.cu through nvcc for sm_80 (mma.sync) and sm_90a
# (Hopper), the host side (src/backend/cuda, src/quant/cuda) through the C++
# compiler against the CUDA runtime, float GEMMs through cuBLAS, GPTQ's
# factorisation through cuSOLVER.
#
# HIP: the same .cu files through Debian's hipcc (clang 15, ROCm 5.2) for
# gfx90a (CDNA2) and gfx1030 (RDNA2; ROCm 5.2's device libraries stop
# before gfx1100), the host side through the C++ compiler against HIP, float
# GEMMs through the library's own kernel (Debian packages no hipBLAS).
set(GPTQ_GPU_LIBRARIES "")
# Objects built outside CMake's compilers (hipcc), linked into both libraries.
set(GPTQ_GPU_EXTRA_OBJECTS "")
if(GPTQ_CUDA)
  if(NOT CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES "80;90a")
  endif()
  enable_language(CUDA)
  # CMake 3.25 does not know nvcc's C++20 flag yet.
  if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  endif()
  set(CMAKE_CUDA_STANDARD 20)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  find_package(CUDAToolkit REQUIRED)
  target_sources(gptq_objects PRIVATE ${GPTQ_GPU_HOST_SOURCES} ${GPTQ_GPU_KERNEL_SOURCES})
  set_target_properties(gptq_objects PROPERTIES CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}" CUDA_STANDARD 20)
  target_compile_definitions(gptq_objects PRIVATE GPTQ_WITH_GPU=1 GPTQ_WITH_CUBLAS=1)
  target_compile_options(gptq_objects PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -Xcompiler=-fvisibility=hidden>)
  target_link_libraries(gptq_objects PUBLIC CUDA::cudart CUDA::cublas CUDA::cusolver)
  set(GPTQ_GPU_LIBRARIES CUDA::cudart CUDA::cublas CUDA::cusolver)
  set(GPTQ_PC_GPU_LIBS "-L${CUDAToolkit_LIBRARY_DIR} -lcusolver -lcublas -lcudart")
elseif(GPTQ_HIP)
  find_program(GPTQ_HIPCC hipcc REQUIRED)
  find_library(GPTQ_AMDHIP64 amdhip64 REQUIRED)
  set(GPTQ_HIP_ARCHITECTURES "gfx90a;gfx1030" CACHE STRING "AMD GPU targets")
  list(TRANSFORM GPTQ_HIP_ARCHITECTURES PREPEND "--offload-arch=" OUTPUT_VARIABLE GPTQ_HIP_ARCH_FLAGS)
  set(GPTQ_HIP_DEFINES -DGPTQ_WITH_GPU=1 -DGPTQ_BUILDING_LIBRARY)
  set(GPTQ_HIP_OBJECTS "")
  foreach(source ${GPTQ_GPU_KERNEL_SOURCES})
    get_filename_component(name ${source} NAME_WE)
    set(object ${CMAKE_CURRENT_BINARY_DIR}/hip/${name}.o)
    add_custom_command(OUTPUT ${object}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/hip
      COMMAND ${GPTQ_HIPCC} -std=c++20 -x hip ${GPTQ_HIP_ARCH_FLAGS} -fPIC -O3 -fvisibility=hidden
              ${GPTQ_HIP_DEFINES} -I${CMAKE_CURRENT_SOURCE_DIR}/src -I${CMAKE_CURRENT_SOURCE_DIR}
              -I${CMAKE_CURRENT_SOURCE_DIR}/include -MD -MF ${object}.d -c ${source} -o ${object}
      DEPENDS ${source} DEPFILE ${object}.d VERBATIM
      COMMENT "hipcc ${name}.cu")
    list(APPEND GPTQ_HIP_OBJECTS ${object})
  endforeach()
  target_sources(gptq_objects PRIVATE ${GPTQ_GPU_HOST_SOURCES})
  set(GPTQ_GPU_EXTRA_OBJECTS ${GPTQ_HIP_OBJECTS})
  set_source_files_properties(${GPTQ_HIP_OBJECTS} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  target_compile_definitions(gptq_objects PRIVATE GPTQ_WITH_GPU=1 GPTQ_BUILD_HIP=1 __HIP_PLATFORM_AMD__=1)
  set(GPTQ_GPU_LIBRARIES ${GPTQ_AMDHIP64})
  set(GPTQ_PC_GPU_LIBS "${GPTQ_AMDHIP64}")
  target_link_libraries(gptq_objects PUBLIC ${GPTQ_GPU_LIBRARIES})
endif()
