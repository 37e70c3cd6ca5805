// What Tokenizer::load derives for each shared tokenizer (BOS/EOS, the
// tokens add_special adds, end of generation), and Qwen3's specifics.
#include <gtest/gtest.h>

#include <filesystem>

#include "tokenizer_test_support.h"

namespace gptq::test {
namespace {

struct PolicyCase {
  const char* folder;
  const char* name;
  const char* kind;
  int32_t vocab_size;
  int32_t bos;
  int32_t eos;
  std::vector<int32_t> prefix;
};

std::ostream& operator<<(std::ostream& out, const PolicyCase& c) { return out << c.name; }

class TokenizerPolicyTest : public ::testing::TestWithParam<PolicyCase> {};

TEST_P(TokenizerPolicyTest, SpecialTokensFollowTheConfigs) {
  const PolicyCase& c = GetParam();
  GPTQ_REQUIRE_PATH(shared_path(c.folder));
  const Tokenizer& tokenizer = *shared_tokenizer(c.folder);
  EXPECT_STREQ(tokenizer.model().kind(), c.kind);
  EXPECT_EQ(tokenizer.vocab_size(), c.vocab_size);
  EXPECT_EQ(tokenizer.bos(), c.bos);
  EXPECT_EQ(tokenizer.eos(), c.eos);
  EXPECT_EQ(tokenizer.prefix_tokens(), c.prefix);
  EXPECT_TRUE(tokenizer.suffix_tokens().empty());
  EXPECT_TRUE(tokenizer.is_end_of_generation(c.eos));
  EXPECT_TRUE(tokenizer.model().is_special(c.eos));
  EXPECT_EQ(tokenizer.model().token_id(tokenizer.model().token_text(c.eos)), c.eos);
  // add_special puts the prefix before the text and nothing else.
  const std::vector<int32_t> plain = tokenizer.encode("Hello world", false, true);
  std::vector<int32_t> expected = c.prefix;
  expected.insert(expected.end(), plain.begin(), plain.end());
  EXPECT_EQ(tokenizer.encode("Hello world", true, true), expected);
}

// gpt2: bos = eos = <|endoftext|>, no template. llama3-hf's file has a
// ByteLevel post-processor and no add_bos_token, so nothing is added.
// mistral-hf: add_bos_token. llama2-sp: no tokenizer_config, sentencepiece's
// LlamaTokenizer default. qwen3: add_bos_token false, eos <|im_end|>.
INSTANTIATE_TEST_SUITE_P(
    Tokenizer, TokenizerPolicyTest,
    ::testing::Values(PolicyCase{"tokenizers/gpt2-hf", "gpt2", "bpe", 50257, 50256, 50256, {}},
                      PolicyCase{"tokenizers/llama3-hf", "llama3", "bpe", 128256, 128000, 128001, {}},
                      PolicyCase{"tokenizers/mistral-hf", "mistral", "bpe", 32000, 1, 2, {1}},
                      PolicyCase{"tokenizers/llama2-sp", "llama2sp", "sentencepiece", 32000, 1, 2, {1}},
                      PolicyCase{"tokenizers/qwen3-hf", "qwen3", "bpe", 151669, -1, 151645, {}}),
    [](const auto& info) { return std::string(info.param.name); });

class TokenizerQwen3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    GPTQ_REQUIRE_PATH(shared_path("tokenizers/qwen3-hf"));
    tokenizer_ = shared_tokenizer("tokenizers/qwen3-hf");
  }
  const Tokenizer* tokenizer_ = nullptr;
};

TEST_F(TokenizerQwen3Test, ChatMarkersAreSpecialTokens) {
  const int32_t im_start = 151644, im_end = 151645;
  EXPECT_EQ(tokenizer_->encode("<|im_end|>", false, true), std::vector<int32_t>{im_end});
  EXPECT_TRUE(tokenizer_->model().is_special(im_end));
  const std::vector<int32_t> chat = tokenizer_->encode("<|im_start|>user\nHi there<|im_end|>\n", false, true);
  ASSERT_GE(chat.size(), 4u);
  EXPECT_EQ(chat.front(), im_start);
  EXPECT_EQ(chat[chat.size() - 2], im_end);
  EXPECT_EQ(tokenizer_->decode(chat, false), "<|im_start|>user\nHi there<|im_end|>\n");
  EXPECT_EQ(tokenizer_->decode(chat, true), "user\nHi there\n");
  // Without parse_special the marker is ordinary text.
  const std::vector<int32_t> literal = tokenizer_->encode("<|im_end|>", false, false);
  EXPECT_GT(literal.size(), 1u);
  EXPECT_EQ(std::count(literal.begin(), literal.end(), im_end), 0);
  EXPECT_EQ(tokenizer_->decode(literal, false), "<|im_end|>");
}

TEST_F(TokenizerQwen3Test, NonSpecialAddedTokensAlwaysMatch) {
  const int32_t think = 151667;
  EXPECT_FALSE(tokenizer_->model().is_special(think));
  EXPECT_EQ(tokenizer_->encode("<think>", false, false), std::vector<int32_t>{think});
  EXPECT_EQ(tokenizer_->decode(std::vector<int32_t>{think}, true), "<think>");
}

TEST_F(TokenizerQwen3Test, InputIsNfcNormalized) {
  const std::string composed = "caf\xC3\xA9 \xC3\xB1";           // café ñ
  const std::string decomposed = "cafe\xCC\x81 n\xCC\x83";       // the same with combining marks
  EXPECT_EQ(tokenizer_->encode(decomposed, false, true), tokenizer_->encode(composed, false, true));
  EXPECT_EQ(tokenizer_->decode(tokenizer_->encode(decomposed, false, true), false), composed);
}

TEST(TokenizerLoadTest, DirectoriesWithoutATokenizerAreNotFound) {
  const std::string archs = shared_path("fixtures/archs");
  GPTQ_REQUIRE_PATH(archs);
  size_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(archs)) {
    if (!entry.is_directory()) continue;
    const std::string dir = entry.path().string();
    EXPECT_FALSE(Tokenizer::present(dir)) << dir;
    expect_error([&] { Tokenizer::load(dir, load_json_file(dir + "/config.json")); }, GPTQ_ERR_NOT_FOUND,
                 "no tokenizer.json or tokenizer.model in '" + dir + "'");
    ++checked;
  }
  EXPECT_GT(checked, 5u);
  EXPECT_TRUE(Tokenizer::present(shared_path("tokenizers/gpt2-hf")));
  EXPECT_TRUE(Tokenizer::present(shared_path("tokenizers/llama2-sp")));
}

}  // namespace
}  // namespace gptq::test
