// Shared by the tokenizer tests: the real tokenizers of ../shared (loaded
// once per process, they take a while) and their reference cases.
#pragma once

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/json_file.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace gptq::test {

// A tokenizer directory under shared/, e.g. "tokenizers/gpt2-hf"; null when absent.
inline const Tokenizer* shared_tokenizer(const std::string& folder) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[folder];
  const std::string dir = shared_path(folder);
  if (!slot && path_exists(dir)) slot = Tokenizer::load(dir, Json::object());
  return slot.get();
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct ReferenceCase {
  std::string text;
  std::vector<int32_t> ids;
  std::string decoded;
};

// reference.jsonl of a tokenizer directory: {"text", "ids", "decoded"} per line.
inline std::vector<ReferenceCase> reference_cases(const std::string& folder) {
  std::vector<ReferenceCase> cases;
  std::ifstream in(shared_path(folder + "/reference.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const Json entry = Json::parse(line);
    cases.push_back({entry.at("text").get<std::string>(), entry.at("ids").get<std::vector<int32_t>>(),
                     entry.at("decoded").get<std::string>()});
  }
  return cases;
}

// llama.cpp's ggml-vocab-NAME.gguf.inp / .out: texts separated by a line
// "__ggml_vocab_test__", and one line of ids per text.
inline std::vector<ReferenceCase> llamacpp_cases(const std::string& vocab) {
  const std::string base = shared_path("tokenizers/llamacpp-tests/ggml-vocab-" + vocab + ".gguf");
  const std::string input = read_file(base + ".inp");
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<ReferenceCase> cases;
  size_t begin = 0;
  for (size_t end = input.find(separator); end != std::string::npos; end = input.find(separator, begin)) {
    cases.push_back({input.substr(begin, end - begin), {}, {}});
    begin = end + separator.size();
  }
  std::istringstream output(read_file(base + ".out"));
  std::string line;
  for (ReferenceCase& c : cases) {
    if (!std::getline(output, line)) break;
    std::istringstream ids(line);
    int32_t id;
    while (ids >> id) c.ids.push_back(id);
    c.decoded = c.text;
  }
  return cases;
}

// A scratch directory holding the given files (name -> content).
inline std::string write_files(const std::string& name, const std::map<std::string, std::string>& files) {
  const std::string dir = scratch_dir(name);
  for (const auto& [file, content] : files) std::ofstream(dir + "/" + file, std::ios::binary) << content;
  return dir;
}

// A tokenizer.json for a tiny BPE vocabulary; tests edit it before writing.
inline Json tiny_bpe_tokenizer(Json vocab, Json merges) {
  return Json{{"version", "1.0"},
              {"added_tokens", Json::array()},
              {"normalizer", nullptr},
              {"pre_tokenizer", nullptr},
              {"post_processor", nullptr},
              {"decoder", nullptr},
              {"model", Json{{"type", "BPE"}, {"vocab", std::move(vocab)}, {"merges", std::move(merges)}}}};
}

// Loads a directory holding just this tokenizer.json (and optional configs).
inline std::unique_ptr<Tokenizer> load_tokenizer_json(const std::string& name, const Json& tokenizer_json,
                                                      std::map<std::string, std::string> extra_files = {},
                                                      const Json& model_config = Json::object()) {
  extra_files["tokenizer.json"] = tokenizer_json.dump();
  return Tokenizer::load(write_files(name, extra_files), model_config);
}

// Runs `action`, which must throw gptq::Error with `status` and a message
// containing `message_part`.
template <typename Action>
void expect_error(Action&& action, gptq_status status, const std::string& message_part) {
  try {
    action();
    ADD_FAILURE() << "no error; expected status " << static_cast<int>(status) << " mentioning '" << message_part << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), status) << e.what();
    EXPECT_NE(std::string(e.what()).find(message_part), std::string::npos)
        << "message '" << e.what() << "' does not mention '" << message_part << "'";
  }
}

}  // namespace gptq::test
