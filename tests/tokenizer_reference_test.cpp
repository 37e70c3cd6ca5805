// Every reference encoding in ../shared/tokenizers: reference.jsonl (HF
// tokenizers / sentencepiece output) and llama.cpp's vocabulary test cases.
#include <gtest/gtest.h>

#include "tokenizer_test_support.h"

namespace gptq::test {
namespace {

struct ReferenceSet {
  const char* name;
  const char* folder;      // the tokenizer under shared/tokenizers
  const char* llamacpp;    // llama.cpp vocabulary name, or null for reference.jsonl
  bool parse_special;      // how the reference was produced
};

std::ostream& operator<<(std::ostream& out, const ReferenceSet& set) { return out << set.name; }

class TokenizerReferenceTest : public ::testing::TestWithParam<ReferenceSet> {};

TEST_P(TokenizerReferenceTest, EncodesAndDecodesLikeTheReference) {
  const ReferenceSet& set = GetParam();
  GPTQ_REQUIRE_PATH(shared_path(set.folder));
  const Tokenizer& tokenizer = *shared_tokenizer(set.folder);
  const std::vector<ReferenceCase> cases = set.llamacpp ? llamacpp_cases(set.llamacpp) : reference_cases(set.folder);
  ASSERT_GE(cases.size(), 40u);
  for (size_t i = 0; i < cases.size(); ++i) {
    const ReferenceCase& c = cases[i];
    SCOPED_TRACE(::testing::Message() << "case " << i << ": \"" << c.text.substr(0, 80) << "\"");
    EXPECT_EQ(tokenizer.encode(c.text, false, set.parse_special), c.ids);
    EXPECT_EQ(tokenizer.decode(c.ids, false), c.decoded);
  }
  std::cout << "[ checked  ] " << set.name << ": " << cases.size() << " cases\n";
}

// The llama2-sp reference is the sentencepiece library itself, which never
// treats "<s>" or "<unk>" in text as special; HF tokenizers parse them.
INSTANTIATE_TEST_SUITE_P(Tokenizer, TokenizerReferenceTest,
                         ::testing::Values(ReferenceSet{"gpt2_jsonl", "tokenizers/gpt2-hf", nullptr, true},
                                           ReferenceSet{"llama3_jsonl", "tokenizers/llama3-hf", nullptr, true},
                                           ReferenceSet{"mistral_jsonl", "tokenizers/mistral-hf", nullptr, true},
                                           ReferenceSet{"llama2sp_jsonl", "tokenizers/llama2-sp", nullptr, false},
                                           ReferenceSet{"gpt2_llamacpp", "tokenizers/gpt2-hf", "gpt-2", true},
                                           ReferenceSet{"llama3_llamacpp", "tokenizers/llama3-hf", "llama-bpe", true},
                                           ReferenceSet{"llama2sp_llamacpp", "tokenizers/llama2-sp", "llama-spm", true}),
                         [](const auto& info) { return std::string(info.param.name); });

// With parse_special, sentencepiece text holding no special-token spelling
// encodes exactly as without; where it does, the spelling becomes the token.
TEST(TokenizerSentencePieceTest, ParseSpecialOnlyChangesSpecialSpellings) {
  GPTQ_REQUIRE_PATH(shared_path("tokenizers/llama2-sp"));
  const Tokenizer& tokenizer = *shared_tokenizer("tokenizers/llama2-sp");
  size_t plain = 0;
  for (const ReferenceCase& c : reference_cases("tokenizers/llama2-sp")) {
    if (c.text.find("<s>") != std::string::npos || c.text.find("</s>") != std::string::npos ||
        c.text.find("<unk>") != std::string::npos) {
      continue;
    }
    EXPECT_EQ(tokenizer.encode(c.text, false, true), c.ids) << c.text;
    ++plain;
  }
  EXPECT_GT(plain, 80u);
  EXPECT_EQ(tokenizer.encode("Hello world", false, true), (std::vector<int32_t>{15043, 3186}));
  // Text after a special token gets no new dummy "▁" (legacy=false).
  EXPECT_EQ(tokenizer.encode("<s>Hello</s> world <unk>", false, true),
            (std::vector<int32_t>{1, 10994, 2, 3186, 29871, 0}));
  EXPECT_EQ(tokenizer.encode("Hello", true, false), (std::vector<int32_t>{1, 15043}));
  EXPECT_EQ(tokenizer.decode(std::vector<int32_t>{1, 10994, 2, 3186, 29871, 0}, false), "<s>Hello</s> world <unk>");
  EXPECT_EQ(tokenizer.decode(std::vector<int32_t>{1, 15043, 2}, true), "Hello");
}

}  // namespace
}  // namespace gptq::test
