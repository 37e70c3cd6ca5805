// The tokenizer of a real checkpoint directory (tinydoc-llama-13m) against
// the ids that transformers produced for its reference generations.
#include <gtest/gtest.h>

#include <sentencepiece_processor.h>

#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "tokenizer_test_support.h"

namespace gptq::test {
namespace {

const std::string kModelDir = "models/tinydoc-llama-13m";
const std::string kReference = "models/tinydoc-llama-13m-reference.safetensors";

std::vector<int32_t> reference_ids(const SafetensorsFile& file, const std::string& name) {
  const TensorView* tensor = file.find(name);
  if (tensor == nullptr) ADD_FAILURE() << "no tensor " << name;
  if (tensor == nullptr) return {};
  const std::vector<int64_t> ids = tensor_to_int64(*tensor);
  return std::vector<int32_t>(ids.begin(), ids.end());
}

class TokenizerTinydocTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!path_exists(shared_path(kModelDir)) || !path_exists(shared_path(kReference))) {
      GTEST_SKIP() << "missing " << shared_path(kModelDir);
    }
    const Json config = load_json_file(shared_path(kModelDir + "/config.json"));
    tokenizer_ = Tokenizer::load(shared_path(kModelDir), config);
    reference_ = SafetensorsFile::open(shared_path(kReference), true);
  }
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<SafetensorsFile> reference_;
};

TEST_F(TokenizerTinydocTest, PolicyComesFromTheConfigs) {
  EXPECT_STREQ(tokenizer_->model().kind(), "sentencepiece");
  EXPECT_EQ(tokenizer_->vocab_size(), 8192);
  EXPECT_EQ(tokenizer_->bos(), 1);
  EXPECT_EQ(tokenizer_->eos(), 2);
  EXPECT_EQ(tokenizer_->prefix_tokens(), std::vector<int32_t>{1});
  EXPECT_TRUE(tokenizer_->suffix_tokens().empty());
  EXPECT_TRUE(tokenizer_->is_end_of_generation(2));
  EXPECT_FALSE(tokenizer_->is_end_of_generation(1));
  EXPECT_TRUE(tokenizer_->model().is_special(1));
  EXPECT_FALSE(tokenizer_->model().is_special(300));
}

TEST_F(TokenizerTinydocTest, PromptsEncodeToTheGenerationPrefix) {
  for (int i = 0; i < 4; ++i) {
    const std::string suffix = std::to_string(i);
    SCOPED_TRACE("prompt " + suffix);
    const std::string& prompt = reference_->metadata().at("prompt_" + suffix);
    const std::vector<int32_t> generated = reference_ids(*reference_, "gen_ids_" + suffix);
    const std::vector<int32_t> encoded = tokenizer_->encode(prompt, true, true);
    ASSERT_EQ(encoded.size() + 32, generated.size());
    EXPECT_EQ(encoded, std::vector<int32_t>(generated.begin(), generated.begin() + encoded.size()));
    EXPECT_EQ(tokenizer_->decode(generated, true), reference_->metadata().at("text_" + suffix));
  }
}

// The whole of WikiText-2's test split in one call, as perplexity does it.
// Its "<unk>" markers are text there, so special tokens are not parsed.
TEST_F(TokenizerTinydocTest, WikitextEncodesLikeTheReference) {
  const std::string path = shared_path("data/wikitext-2/test.txt");
  GPTQ_REQUIRE_PATH(path);
  const std::string text = read_text_file(path);
  const std::vector<int32_t> expected = reference_ids(*reference_, "wiki_ids");
  ASSERT_EQ(expected.size(), 128u);
  const std::vector<int32_t> ids = tokenizer_->encode(text, false, false);
  ASSERT_GT(ids.size(), 128u);
  EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.begin() + 128), expected);
  EXPECT_EQ(tokenizer_->decode(ids, false), text);
}

// Long text is encoded in newline-ended chunks for speed; the result must
// be what sentencepiece gives for the text in one piece.
TEST(TokenizerSentencePieceChunksTest, ChunkedEncodingEqualsWholeText) {
  const std::string wiki = shared_path("data/wikitext-2/test.txt");
  GPTQ_REQUIRE_PATH(wiki);
  const std::string text = read_text_file(wiki).substr(0, 150000);
  for (const std::string dir : {"tokenizers/llama2-sp", "models/tinydoc-llama-13m"}) {
    GPTQ_REQUIRE_PATH(shared_path(dir));
    sentencepiece::SentencePieceProcessor processor;
    ASSERT_TRUE(processor.Load(shared_path(dir + "/tokenizer.model")).ok());
    std::vector<int> whole;
    ASSERT_TRUE(processor.Encode(text, &whole).ok());
    const std::vector<int32_t> chunked = shared_tokenizer(dir)->encode(text, false, false);
    EXPECT_EQ(chunked, std::vector<int32_t>(whole.begin(), whole.end())) << dir;
  }
}

}  // namespace
}  // namespace gptq::test
