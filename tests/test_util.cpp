#include "test_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace gptq::test {

std::string shared_dir() {
  if (const char* env = std::getenv("GPTQ_SHARED_DIR")) return env;
  return GPTQ_SHARED_DIR;
}

std::string shared_path(const std::string& relative) { return shared_dir() + "/" + relative; }
// $GPTQ_TEST_BINARY_DIR lets a copied test binary run elsewhere (the GPU machine).
std::string binary_dir() {
  if (const char* env = std::getenv("GPTQ_TEST_BINARY_DIR")) return env;
  return GPTQ_BINARY_DIR;
}
std::string source_dir() { return GPTQ_SOURCE_DIR; }

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

gptq_status status_of(const std::function<void()>& action, std::string* message) {
  try {
    action();
    return GPTQ_OK;
  } catch (const Error& e) {
    *message = e.what();
    return e.status();
  }
}

double relative_l2(std::span<const float> a, std::span<const float> b) {
  double diff = 0.0, ref = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    ref += double(b[i]) * b[i];
  }
  if (a.size() != b.size()) return INFINITY;
  return ref > 0 ? std::sqrt(diff / ref) : std::sqrt(diff);
}

namespace {
// Removes this process's scratch directories when the test binary exits.
struct ScratchCleanup {
  std::vector<std::filesystem::path> dirs;
  ~ScratchCleanup() {
    std::error_code ec;
    for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
  }
};
ScratchCleanup& scratch_cleanup() {
  static ScratchCleanup cleanup;
  return cleanup;
}
}  // namespace

std::string scratch_dir(const std::string& name) {
  // ctest runs test cases in parallel processes: keep their directories apart.
  const std::filesystem::path dir =
      std::filesystem::path(binary_dir()) / "test-scratch" / (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  scratch_cleanup().dirs.push_back(dir);
  return dir.string();
}

gptq_generate_params beam_params(int32_t num_beams, int32_t num_return, float length_penalty, int32_t early_stopping,
                                 int32_t max_new_tokens) {
  gptq_generate_params p;
  gptq_generate_default_params(&p, sizeof p);
  p.num_beams = num_beams;
  p.num_return_sequences = num_return;
  p.length_penalty = length_penalty;
  p.early_stopping = early_stopping;
  p.max_new_tokens = max_new_tokens;
  return p;
}

std::string model_with_eos_ids(const std::string& model_dir, const std::vector<int32_t>& eos_ids) {
  std::string name = "eos";
  for (int32_t id : eos_ids) name += "-" + std::to_string(id);
  const std::string dir = scratch_dir(std::filesystem::path(model_dir).filename().string() + "-" + name);
  for (const auto& entry : std::filesystem::directory_iterator(model_dir)) {
    if (entry.path().filename() == "generation_config.json") continue;
    std::filesystem::create_symlink(std::filesystem::absolute(entry.path()),
                                    std::filesystem::path(dir) / entry.path().filename());
  }
  std::string ids;
  for (int32_t id : eos_ids) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
  std::ofstream(std::filesystem::path(dir) / "generation_config.json") << "{\"eos_token_id\": [" << ids << "]}\n";
  return dir;
}

}  // namespace gptq::test
