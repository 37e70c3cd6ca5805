// The GPU queries of a build without GPU support.
#include "backend/device.h"

namespace gptq::gpu {

const char* runtime_name() { return ""; }
int device_count() { return 0; }
std::string device_description(int) { return ""; }
std::string unavailable_reason() { return "this build of libgptq has no GPU support (built without CUDA or HIP)"; }
std::string unsupported_reason(int) { return "this build of libgptq has no GPU support"; }
bool memory(int, int64_t*, int64_t*) { return false; }

}  // namespace gptq::gpu
