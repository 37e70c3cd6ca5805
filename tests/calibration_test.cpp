// Calibration samples: seeded random windows of a text, and JSON lines with
// "text" or pre-tokenized "input_ids" (as AutoGPTQ takes examples).
#include <fstream>

#include <gtest/gtest.h>

#include "io/json_file.h"
#include "quant/calibration.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace gptq::test {
namespace {

const std::string kModelDir = "models/tinydoc-llama-13m";

class CalibrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GPTQ_REQUIRE_PATH(shared_path(kModelDir));
    tokenizer_ = Tokenizer::load(shared_path(kModelDir), load_json_file(shared_path(kModelDir + "/config.json")));
    dir_ = scratch_dir("calibration");
  }

  std::string write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::unique_ptr<Tokenizer> tokenizer_;
  std::string dir_;
};

TEST_F(CalibrationTest, WindowsAreSeededSlicesOfTheTokenizedText) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "The quick brown fox jumps over the lazy dog number " + std::to_string(i) + ". ";
  const std::vector<int32_t> all = tokenizer_->encode(text, false, false);
  const CalibrationSet a = calibration_windows(*tokenizer_, text, 8, 32, 7);
  const CalibrationSet b = calibration_windows(*tokenizer_, text, 8, 32, 7);
  const CalibrationSet c = calibration_windows(*tokenizer_, text, 8, 32, 8);
  ASSERT_EQ(a.size(), 8u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (const auto& window : a) {
    ASSERT_EQ(window.size(), 32u);
    EXPECT_NE(std::search(all.begin(), all.end(), window.begin(), window.end()), all.end());
  }
  std::string message;
  EXPECT_EQ(status_of([&] { calibration_windows(*tokenizer_, "too short", 4, 512, 0); }, &message),
            GPTQ_ERR_INVALID_ARGUMENT);
}

TEST_F(CalibrationTest, JsonLinesTakeTextOrTokenIds) {
  const std::string path = write("mixed.jsonl",
                                 "{\"text\": \"Hello world\"}\n"
                                 "\n"
                                 "{\"input_ids\": [5, 6, 7, 8, 9, 10]}\n"
                                 "{\"text\": \"\", \"source\": \"empty samples are skipped\"}\n"
                                 "{\"input_ids\": [11, 12]}\n");
  const CalibrationSet samples = calibration_from_jsonl(*tokenizer_, path, 0, 4);
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0], tokenizer_->encode("Hello world", true, false));  // with BOS, as texts are
  EXPECT_EQ(samples[1], (std::vector<int32_t>{5, 6, 7, 8}));              // cut to seqlen
  EXPECT_EQ(samples[2], (std::vector<int32_t>{11, 12}));
  EXPECT_EQ(calibration_from_jsonl(*tokenizer_, path, 2, 4).size(), 2u);  // n_samples caps the count
}

TEST_F(CalibrationTest, BadJsonLinesNameTheLine) {
  struct Case {
    const char* content;
    const char* message;
  };
  const Case cases[] = {
      {"{\"text\": \"ok\"}\n{not json\n", "line 2 is not valid JSON"},
      {"[1, 2, 3]\n", "line 1 is not a JSON object"},
      {"{\"prompt\": \"x\"}\n", "has neither \"text\" nor \"input_ids\""},
      {"{\"input_ids\": \"1 2 3\"}\n", "must be an array of token ids"},
      {"{\"input_ids\": [1, -2]}\n", "holds -2, not a token id"},
      {"{\"input_ids\": [1, 2.5]}\n", "holds 2.5, not a token id"},
      {"\n\n", "holds no calibration samples"},
  };
  for (const Case& c : cases) {
    const std::string path = write("bad.jsonl", c.content);
    std::string message;
    EXPECT_EQ(status_of([&] { calibration_from_jsonl(*tokenizer_, path, 0, 16); }, &message), GPTQ_ERR_FORMAT)
        << c.content;
    EXPECT_NE(message.find(c.message), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace gptq::test
