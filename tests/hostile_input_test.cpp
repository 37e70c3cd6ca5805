// Model directories from strangers, and callers that misuse the C API. The
// corpus (written by scripts/make_hostile_corpus.py into the build tree) holds
// small valid bases and, per case, the files that break one thing;
// MANIFEST.tsv says what each case must produce. Every case runs through the
// public C API only: the status must match, the message must name the file
// and the field at fault, and nothing may crash (run under the asan preset
// to make "nothing" mean no out-of-bounds read, no UB and no leak).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gptq.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;

std::string corpus_dir() { return GPTQ_HOSTILE_DIR; }

struct HostileCase {
  std::string name, base, api, expect;
  std::vector<std::string> needles, setup;
  std::string why;
};

void PrintTo(const HostileCase& c, std::ostream* out) { *out << c.name; }

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  if (text == "-") return parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, separator);) parts.push_back(part);
  return parts;
}

std::vector<HostileCase> read_manifest() {
  std::vector<HostileCase> cases;
  std::ifstream in(corpus_dir() + "/MANIFEST.tsv");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> f = split(line, '\t');
    if (f.size() != 7) {
      ADD_FAILURE() << "MANIFEST.tsv: malformed line: " << line;
      continue;
    }
    cases.push_back({f[0], f[1], f[2], f[3], split(f[4], '|'), split(f[5], ';'), f[6]});
  }
  return cases;
}

const std::vector<HostileCase>& manifest() {
  static const std::vector<HostileCase> cases = read_manifest();
  return cases;
}

// The base, then the case's files over it, then what git cannot hold.
std::string assemble(const HostileCase& c) {
  const std::string dir = gptq::test::scratch_dir("hostile-" + c.name);
  fs::copy(corpus_dir() + "/base/" + c.base, dir, fs::copy_options::recursive);
  const fs::path overlay = corpus_dir() + "/cases/" + c.name;
  if (fs::exists(overlay)) {
    fs::copy(overlay, dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }
  for (const std::string& step : c.setup) {
    const size_t eq = step.find('=');
    const std::string op = step.substr(0, eq), arg = step.substr(eq + 1);
    const fs::path path = fs::path(dir) / arg.substr(0, arg.find('>'));
    if (op == "rm") {
      fs::remove_all(path);
    } else if (op == "mkdir") {
      fs::remove_all(path);
      fs::create_directories(path / "inner");
    } else if (op == "symlink") {
      fs::create_symlink(arg.substr(arg.find('>') + 1), path);
    } else {
      ADD_FAILURE() << c.name << ": unknown setup step " << step;
    }
  }
  return dir;
}

// Tokenizing, detokenizing and one evaluation of a loaded model: what every
// case that loads must also survive (the manifest's api column says which
// part a case aims at; all of it runs).
gptq_status exercise(gptq_model* model) {
  const std::string text = "hello world\n\xC3\xBC <s> hello";
  std::vector<int32_t> ids(256);
  size_t n = 0;
  gptq_model_info info{};
  info.struct_size = sizeof info;
  if (gptq_status s = gptq_model_get_info(model, &info); s != GPTQ_OK) return s;
  const bool has_tokenizer = std::string(info.tokenizer) != "none";
  if (has_tokenizer) {
    const uint32_t flags = GPTQ_TOKENIZE_ADD_SPECIAL | GPTQ_TOKENIZE_PARSE_SPECIAL;
    if (gptq_status s = gptq_tokenize(model, text.data(), text.size(), flags, ids.data(), ids.size(), &n); s != GPTQ_OK) {
      return s;
    }
    ids.resize(n);
    for (const int32_t id : ids) EXPECT_TRUE(id >= 0 && id < info.vocab_size) << id;
    std::vector<char> out(1024);
    size_t len = 0;
    if (gptq_status s = gptq_detokenize(model, ids.data(), ids.size(), 0, out.data(), out.size(), &len); s != GPTQ_OK) {
      return s;
    }
  } else {
    ids = {0, 1};
  }
  if (ids.empty()) return GPTQ_OK;
  gptq_context_params params;
  gptq_context_default_params(&params, sizeof params);
  params.n_ctx = 32;
  params.n_threads = 1;
  gptq_context* context = nullptr;
  if (gptq_status s = gptq_context_new(model, &params, &context); s != GPTQ_OK) return s;
  std::vector<float> logits(info.vocab_size);
  if (ids.size() > 16) ids.resize(16);
  const gptq_status s = gptq_context_eval(context, 0, ids.data(), ids.size(), GPTQ_LOGITS_LAST, logits.data(), logits.size());
  gptq_context_free(context);
  return s;
}

class HostileInput : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileInput, AnswersAsTheManifestSays) {
  const HostileCase& c = GetParam();
  const std::string dir = assemble(c);
  SCOPED_TRACE(c.name + ": " + c.why);
  // Both ways of reading weights: mapped, and read into memory.
  for (const int32_t use_mmap : {1, 0}) {
    gptq_model_params params;
    gptq_model_default_params(&params, sizeof params);
    params.use_mmap = use_mmap;
    gptq_model* model = nullptr;
    gptq_status status = gptq_model_load(dir.c_str(), &params, &model);
    if (status == GPTQ_OK) {
      EXPECT_NE(model, nullptr);
      status = exercise(model);
    } else {
      EXPECT_EQ(model, nullptr);
    }
    const std::string message = gptq_last_error();
    gptq_model_free(model);
    // For review: --gtest_output=xml:FILE lists every case's answer.
    if (use_mmap) RecordProperty("answer", std::string(gptq_status_name(status)) + ": " + message);
    if (c.expect == "loads") {
      EXPECT_EQ(status, GPTQ_OK) << "use_mmap " << use_mmap << ": " << gptq_status_name(status) << ": " << message;
      continue;
    }
    EXPECT_STREQ(gptq_status_name(status), c.expect.c_str()) << "use_mmap " << use_mmap << ": " << message;
    for (const std::string& needle : c.needles) {
      EXPECT_NE(message.find(needle), std::string::npos) << "the message does not name '" << needle << "': " << message;
    }
  }
}

std::string case_name(const ::testing::TestParamInfo<HostileCase>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Hostile, HostileInput, ::testing::ValuesIn(manifest()), case_name);

TEST(HostileCorpus, IsLargeAndCoversEveryArea) {
  std::map<std::string, int> by_area;
  for (const HostileCase& c : manifest()) by_area[c.name.substr(0, c.name.find('_'))]++;
  std::string summary;
  for (const auto& [area, n] : by_area) summary += " " + area + "=" + std::to_string(n);
  std::printf("hostile corpus: %zu cases:%s\n", manifest().size(), summary.c_str());
  EXPECT_GE(manifest().size(), 150u);
  for (const char* area : {"st", "config", "quant", "gptq", "genconf", "tokconf", "tokjson", "spm", "shard", "ckpt"}) {
    EXPECT_GT(by_area[area], 0) << area;
  }
}

// ------------------------------------------------------------ API misuse

// A loaded model of the corpus's llama base, shared by the misuse tests.
class HostileApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const HostileCase base{"api-base", "llama", "model_load", "loads", {}, {}, ""};
    ASSERT_EQ(gptq_model_load(assemble(base).c_str(), nullptr, &model_), GPTQ_OK) << gptq_last_error();
    gptq_context_params params;
    gptq_context_default_params(&params, sizeof params);
    params.n_ctx = 16;
    params.n_threads = 1;
    ASSERT_EQ(gptq_context_new(model_, &params, &context_), GPTQ_OK) << gptq_last_error();
  }
  static void TearDownTestSuite() {
    gptq_context_free(context_);
    gptq_model_free(model_);
    std::printf("hostile API misuse: %d checks\n", checks_);
  }

  // The call's status, and a message naming `needle` when it failed.
  static void expect(gptq_status got, gptq_status want, const char* needle, const char* what) {
    ++checks_;
    EXPECT_EQ(got, want) << what << ": " << gptq_status_name(got) << ": " << gptq_last_error();
    if (want != GPTQ_OK && needle != nullptr) {
      EXPECT_NE(std::string(gptq_last_error()).find(needle), std::string::npos) << what << ": " << gptq_last_error();
    }
  }

  static gptq_model* model_;
  static gptq_context* context_;
  static int checks_;
};
gptq_model* HostileApi::model_ = nullptr;
gptq_context* HostileApi::context_ = nullptr;
int HostileApi::checks_ = 0;

#define CHECK_STATUS(call, want, needle) expect((call), (want), (needle), #call)
constexpr gptq_status kBad = GPTQ_ERR_INVALID_ARGUMENT;

TEST_F(HostileApi, NullPointersAreRefused) {
  gptq_model* m = nullptr;
  gptq_context* c = nullptr;
  gptq_generation* g = nullptr;
  gptq_stream* s = nullptr;
  int32_t ids[4] = {1, 3, 4, 5};
  size_t n = 0;
  char text[16];
  float logits[64];
  const char* prompts[2] = {"hello", nullptr};
  CHECK_STATUS(gptq_model_load(nullptr, nullptr, &m), kBad, "path");
  CHECK_STATUS(gptq_model_load("/x", nullptr, nullptr), kBad, "out_model");
  CHECK_STATUS(gptq_model_get_info(nullptr, nullptr), kBad, nullptr);
  CHECK_STATUS(gptq_model_get_info(model_, nullptr), kBad, "info");
  CHECK_STATUS(gptq_context_new(nullptr, nullptr, &c), kBad, "model");
  CHECK_STATUS(gptq_context_new(model_, nullptr, nullptr), kBad, "out_context");
  CHECK_STATUS(gptq_tokenize(nullptr, "a", 1, 0, ids, 4, &n), kBad, "model");
  CHECK_STATUS(gptq_tokenize(model_, nullptr, 1, 0, ids, 4, &n), kBad, "text");
  CHECK_STATUS(gptq_tokenize(model_, "a", 1, 0, nullptr, 4, &n), kBad, "tokens");
  CHECK_STATUS(gptq_tokenize(model_, "a", 1, 0, ids, 4, nullptr), kBad, "n_tokens");
  CHECK_STATUS(gptq_tokenize(model_, nullptr, 0, 0, nullptr, 0, &n), GPTQ_OK, nullptr);
  CHECK_STATUS(gptq_detokenize(nullptr, ids, 1, 0, text, 16, &n), kBad, "model");
  CHECK_STATUS(gptq_detokenize(model_, nullptr, 1, 0, text, 16, &n), kBad, "tokens");
  CHECK_STATUS(gptq_detokenize(model_, ids, 1, 0, nullptr, 16, &n), kBad, "text");
  CHECK_STATUS(gptq_detokenize(model_, ids, 1, 0, text, 16, nullptr), kBad, "text_len");
  CHECK_STATUS(gptq_context_eval(nullptr, 0, ids, 1, GPTQ_LOGITS_LAST, logits, 64), kBad, "context");
  CHECK_STATUS(gptq_context_eval(context_, 0, nullptr, 1, GPTQ_LOGITS_LAST, logits, 64), kBad, "tokens");
  CHECK_STATUS(gptq_context_eval(context_, 0, ids, 1, GPTQ_LOGITS_LAST, nullptr, 64), kBad, "logits");
  CHECK_STATUS(gptq_context_clear(nullptr, 0), kBad, "context");
  CHECK_STATUS(gptq_generate(nullptr, "a", nullptr, &g), kBad, "context");
  CHECK_STATUS(gptq_generate(context_, nullptr, nullptr, &g), kBad, "prompt");
  CHECK_STATUS(gptq_generate(context_, "a", nullptr, nullptr), kBad, "out");
  CHECK_STATUS(gptq_generate_batch(context_, nullptr, 1, nullptr, &g), kBad, "prompts");
  CHECK_STATUS(gptq_generate_batch(context_, prompts, 2, nullptr, &g), kBad, "prompts[1]");
  CHECK_STATUS(gptq_stream_begin(nullptr, prompts, 1, nullptr, &s), kBad, "context");
  CHECK_STATUS(gptq_stream_begin(context_, nullptr, 1, nullptr, &s), kBad, "prompts");
  CHECK_STATUS(gptq_stream_begin(context_, prompts, 1, nullptr, nullptr), kBad, "out");
  CHECK_STATUS(gptq_stream_next(nullptr, nullptr, nullptr), kBad, "stream");
  CHECK_STATUS(gptq_stream_result(nullptr, &g), kBad, "stream");
  CHECK_STATUS(gptq_generation_timings(nullptr, nullptr), kBad, "generation");
  // Accessors of absent objects answer "nothing" rather than fail.
  EXPECT_EQ(gptq_model_token_text(nullptr, 0), nullptr);
  EXPECT_EQ(gptq_model_token_is_eog(nullptr, 0), 0);
  EXPECT_EQ(gptq_context_n_ctx(nullptr), 0);
  EXPECT_EQ(gptq_context_seq_length(nullptr, 0), -1);
  EXPECT_EQ(gptq_generation_count(nullptr), 0u);
  EXPECT_EQ(gptq_generation_text(nullptr, 0), nullptr);
  const int32_t* tokens = ids;
  EXPECT_EQ(gptq_generation_tokens(nullptr, 0, &tokens), 0u);
  EXPECT_EQ(gptq_generation_stop_reason(nullptr, 0), -1);
  gptq_model_default_params(nullptr, sizeof(gptq_model_params));
  gptq_context_default_params(nullptr, sizeof(gptq_context_params));
  gptq_generate_default_params(nullptr, sizeof(gptq_generate_params));
  gptq_stream_free(nullptr);
  gptq_generation_free(nullptr);
  checks_ += 14;
}

// 0 and 1 bytes are too small to hold struct_size; a struct larger than
// today's (from a newer header) is read as far as this library knows it.
TEST_F(HostileApi, StructSizesAreChecked) {
  alignas(8) unsigned char buffer[1024];
  for (const uint32_t size : {0u, 1u}) {
    std::memset(buffer, 0, sizeof buffer);
    std::memcpy(buffer, &size, sizeof size);
    gptq_model* m = nullptr;
    gptq_context* c = nullptr;
    gptq_generation* g = nullptr;
    gptq_model_info* info = reinterpret_cast<gptq_model_info*>(buffer);
    CHECK_STATUS(gptq_model_load("/x", reinterpret_cast<gptq_model_params*>(buffer), &m), kBad, "struct_size");
    CHECK_STATUS(gptq_context_new(model_, reinterpret_cast<gptq_context_params*>(buffer), &c), kBad, "struct_size");
    CHECK_STATUS(gptq_generate(context_, "a", reinterpret_cast<gptq_generate_params*>(buffer), &g), kBad, "struct_size");
    CHECK_STATUS(gptq_model_get_info(model_, info), kBad, "struct_size");
    // Default-filling a too-small struct writes nothing past it.
    std::memset(buffer, 0xAB, sizeof buffer);
    gptq_model_default_params(reinterpret_cast<gptq_model_params*>(buffer), size);
    gptq_context_default_params(reinterpret_cast<gptq_context_params*>(buffer), size);
    gptq_generate_default_params(reinterpret_cast<gptq_generate_params*>(buffer), size);
    EXPECT_EQ(buffer[size], 0xAB);
    checks_ += 1;
  }
  // Larger than today's: accepted, the unknown tail ignored.
  std::memset(buffer, 0, sizeof buffer);
  gptq_generate_default_params(reinterpret_cast<gptq_generate_params*>(buffer), sizeof buffer);
  auto* gp = reinterpret_cast<gptq_generate_params*>(buffer);
  EXPECT_EQ(gp->struct_size, sizeof(gptq_generate_params));
  gp->struct_size = sizeof buffer;
  gp->max_new_tokens = 2;
  gptq_generation* g = nullptr;
  CHECK_STATUS(gptq_generate(context_, "hello", gp, &g), GPTQ_OK, nullptr);
  gptq_generation_free(g);
  std::memset(buffer, 0, sizeof buffer);
  gptq_context_default_params(reinterpret_cast<gptq_context_params*>(buffer), sizeof(gptq_context_params));
  reinterpret_cast<gptq_context_params*>(buffer)->struct_size = sizeof buffer;
  reinterpret_cast<gptq_context_params*>(buffer)->n_ctx = 8;
  gptq_context* c = nullptr;
  CHECK_STATUS(gptq_context_new(model_, reinterpret_cast<gptq_context_params*>(buffer), &c), GPTQ_OK, nullptr);
  gptq_context_free(c);
  std::memset(buffer, 0, sizeof buffer);
  auto* info = reinterpret_cast<gptq_model_info*>(buffer);
  info->struct_size = sizeof buffer;
  CHECK_STATUS(gptq_model_get_info(model_, info), GPTQ_OK, nullptr);
  EXPECT_EQ(info->struct_size, sizeof(gptq_model_info));
  EXPECT_EQ(buffer[sizeof(gptq_model_info)], 0);
  checks_ += 2;
}

TEST_F(HostileApi, InvalidUtf8IsRefused) {
  int32_t ids[64];
  size_t n = 0;
  for (const char* text : {"\xff", "abc\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\x80z", "\xe2\x82"}) {
    CHECK_STATUS(gptq_tokenize(model_, text, std::strlen(text), 0, ids, 64, &n), kBad, "UTF-8");
    gptq_generation* g = nullptr;
    CHECK_STATUS(gptq_generate(context_, text, nullptr, &g), kBad, "UTF-8");
    EXPECT_EQ(g, nullptr);
  }
  // An embedded NUL is text like any other when the length says so.
  CHECK_STATUS(gptq_tokenize(model_, "he\0lo", 5, 0, ids, 64, &n), GPTQ_OK, nullptr);
}

TEST_F(HostileApi, TokenIdsOutOfRangeAreRefused) {
  gptq_model_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(gptq_model_get_info(model_, &info), GPTQ_OK);
  ASSERT_EQ(gptq_context_clear(context_, -1), GPTQ_OK);
  std::vector<float> logits(info.vocab_size);
  char text[64];
  size_t len = 0;
  for (const int32_t bad : {-1, info.vocab_size, info.vocab_size + 1000, INT32_MAX, INT32_MIN}) {
    const int32_t ids[3] = {1, bad, 3};
    CHECK_STATUS(gptq_detokenize(model_, ids, 3, 0, text, sizeof text, &len), kBad, "token");
    CHECK_STATUS(gptq_context_eval(context_, 0, ids, 3, GPTQ_LOGITS_LAST, logits.data(), logits.size()), kBad, "token");
    EXPECT_EQ(gptq_model_token_text(model_, bad), nullptr);
    EXPECT_EQ(gptq_context_seq_length(context_, 0), 0);
    checks_ += 2;
  }
  const int32_t ids[2] = {1, 3};
  CHECK_STATUS(gptq_context_eval(context_, 0, ids, 0, GPTQ_LOGITS_LAST, logits.data(), logits.size()), kBad, "n_tokens");
  CHECK_STATUS(gptq_context_eval(context_, 0, ids, 2, 7, logits.data(), logits.size()), kBad, "mode");
  CHECK_STATUS(gptq_context_eval(context_, 0, ids, 2, GPTQ_LOGITS_ALL, logits.data(), logits.size()),
                     GPTQ_ERR_BUFFER_TOO_SMALL, "logits");
  CHECK_STATUS(gptq_context_eval(context_, -1, ids, 2, GPTQ_LOGITS_NONE, nullptr, 0), kBad, "seq");
  CHECK_STATUS(gptq_context_eval(context_, 1, ids, 2, GPTQ_LOGITS_NONE, nullptr, 0), kBad, "seq");
  CHECK_STATUS(gptq_context_eval(context_, 0, ids, SIZE_MAX, GPTQ_LOGITS_NONE, nullptr, 0), GPTQ_ERR_CONTEXT_FULL, nullptr);
  CHECK_STATUS(gptq_context_clear(context_, 5), kBad, "seq");
  EXPECT_EQ(gptq_context_seq_length(context_, 99), -1);
  CHECK_STATUS(gptq_context_clear(context_, -1), GPTQ_OK, nullptr);
}

TEST_F(HostileApi, GenerationLimitsAreChecked) {
  gptq_generate_params params;
  gptq_generate_default_params(&params, sizeof params);
  gptq_generation* g = nullptr;
  params.max_new_tokens = 0;
  CHECK_STATUS(gptq_generate(context_, "hello", &params, &g), GPTQ_OK, nullptr);
  if (g != nullptr) {
    EXPECT_EQ(gptq_generation_tokens(g, 0, nullptr), 0u);
    EXPECT_EQ(gptq_generation_text(g, 1), nullptr);
    EXPECT_EQ(gptq_generation_stop_reason(g, 7), -1);
  }
  gptq_generation_free(g);
  g = nullptr;
  params.max_new_tokens = -1;
  CHECK_STATUS(gptq_generate(context_, "hello", &params, &g), kBad, "max_new_tokens");
  gptq_generation_free(g);
  g = nullptr;
  params.max_new_tokens = INT32_MAX;  // stops when the 16-token context is full
  params.stop_on_eos = 0;
  CHECK_STATUS(gptq_generate(context_, "hello", &params, &g), GPTQ_OK, nullptr);
  if (g != nullptr) {
    EXPECT_EQ(gptq_generation_stop_reason(g, 0), GPTQ_STOP_CONTEXT_FULL);
  }
  gptq_generation_free(g);
  g = nullptr;
  params.max_new_tokens = 2;
  params.n_stop_strings = 2;
  params.stop_strings = nullptr;
  CHECK_STATUS(gptq_generate(context_, "hello", &params, &g), kBad, "stop_strings");
  params.n_stop_strings = -1;
  CHECK_STATUS(gptq_generate(context_, "hello", &params, &g), kBad, "n_stop_strings");
  params.n_stop_strings = 0;
  const char* prompts[3] = {"a", "b", "c"};
  CHECK_STATUS(gptq_generate_batch(context_, prompts, 3, &params, &g), kBad, "n_seq_max");
  CHECK_STATUS(gptq_generate_batch(context_, prompts, 0, &params, &g), kBad, "prompts");
  // A prompt longer than the context.
  const std::string long_prompt(400, 'h');
  CHECK_STATUS(gptq_generate(context_, long_prompt.c_str(), &params, &g), GPTQ_ERR_CONTEXT_FULL, "n_ctx");
}

TEST_F(HostileApi, ContextSizesAreChecked) {
  gptq_context_params params;
  auto make = [&](int32_t n_ctx, int32_t n_seq, int32_t n_batch, int32_t n_threads) {
    gptq_context_default_params(&params, sizeof params);
    params.n_ctx = n_ctx;
    params.n_seq_max = n_seq;
    params.n_batch = n_batch;
    params.n_threads = n_threads;
    gptq_context* c = nullptr;
    const gptq_status s = gptq_context_new(model_, &params, &c);
    EXPECT_EQ(s == GPTQ_OK, c != nullptr);
    gptq_context_free(c);
    return s;
  };
  CHECK_STATUS(make(0, 1, 0, 1), GPTQ_OK, nullptr);  // 0: defaults
  CHECK_STATUS(make(-1, 1, 0, 1), kBad, "n_ctx");
  CHECK_STATUS(make(INT32_MAX, 1, 0, 1), kBad, "n_ctx");
  CHECK_STATUS(make(1 << 23, 1, 0, 1), kBad, "n_ctx");
  CHECK_STATUS(make(8, -1, 0, 1), kBad, "n_seq_max");
  CHECK_STATUS(make(8, INT32_MAX, 0, 1), kBad, "n_seq_max");
  CHECK_STATUS(make(8, 1, -5, 1), kBad, "n_batch");
  CHECK_STATUS(make(8, 1, 0, -1), kBad, "n_threads");
  CHECK_STATUS(make(8, 1, 0, INT32_MAX), kBad, "n_threads");
  CHECK_STATUS(make(8, 1, 1, 1), GPTQ_OK, nullptr);
}

}  // namespace
