// Helpers shared by the tests: where ../shared is, and small comparisons.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backend/device.h"
#include "gptq.h"

namespace gptq::test {

// The shared test material (../shared beside the project, or $GPTQ_SHARED_DIR).
std::string shared_dir();
std::string shared_path(const std::string& relative);
std::string binary_dir();
std::string source_dir();

// ||a - b|| / ||b||
double relative_l2(std::span<const float> a, std::span<const float> b);

// Makes a fresh empty directory under the build tree's scratch area.
std::string scratch_dir(const std::string& name);

// A scratch model directory whose files link to `model_dir`'s, but whose
// generation_config.json names `eos_ids` as end-of-generation ids: makes
// generation end where a test needs it to, without copying the weights.
std::string model_with_eos_ids(const std::string& model_dir, const std::vector<int32_t>& eos_ids);

// Default generation params set for beam search.
gptq_generate_params beam_params(int32_t num_beams, int32_t num_return, float length_penalty, int32_t early_stopping,
                                 int32_t max_new_tokens);

// Runs an internal call: GPTQ_OK, or the status of the gptq::Error it threw
// with its message in *message.
gptq_status status_of(const std::function<void()>& action, std::string* message);

}  // namespace gptq::test

// Skips the current test (with the reason printed) when a path is absent.
#define GPTQ_REQUIRE_PATH(path)                                                     \
  do {                                                                              \
    if (!::gptq::test::path_exists(path)) GTEST_SKIP() << "missing " << (path);     \
  } while (0)

namespace gptq::test {
bool path_exists(const std::string& path);
}

// Skips the current test (with the reason printed) when no GPU is usable.
#define GPTQ_REQUIRE_GPU()                                                                                  \
  do {                                                                                                      \
    if (::gptq::gpu::device_count() == 0) GTEST_SKIP() << "no GPU: " << ::gptq::gpu::unavailable_reason(); \
  } while (0)
