// The BPE model's options, added-token matching and the special-token
// policy, on tiny tokenizer.json files whose results can be worked out by hand.
#include <gtest/gtest.h>

#include "tokenizer_test_support.h"

namespace gptq::test {
namespace {

using Ids = std::vector<int32_t>;

// a=0 b=1 c=2 ab=3 bc=4 abc=5 <unk>=6; "b c" outranks "a b".
Json abc_tokenizer() {
  return tiny_bpe_tokenizer(Json{{"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"bc", 4}, {"abc", 5}, {"<unk>", 6}},
                            Json::array({"b c", "a b", "a bc"}));
}

TEST(TokenizerBpeTest, MergesLowestRankFirst) {
  const auto tokenizer = load_tokenizer_json("bpe-ranks", abc_tokenizer());
  EXPECT_EQ(tokenizer->encode("abc", false, true), Ids{5});
  EXPECT_EQ(tokenizer->encode("ab", false, true), Ids{3});
  EXPECT_EQ(tokenizer->encode("abcab", false, true), (Ids{5, 3}));
  EXPECT_EQ(tokenizer->encode("cab", false, true), (Ids{2, 3}));
  // Merges written as pairs mean the same.
  Json pairs = abc_tokenizer();
  pairs["model"]["merges"] = Json::array({Json::array({"b", "c"}), Json::array({"a", "b"}), Json::array({"a", "bc"})});
  EXPECT_EQ(load_tokenizer_json("bpe-pairs", pairs)->encode("abcab", false, true), (Ids{5, 3}));
}

TEST(TokenizerBpeTest, UnknownCharacters) {
  Json config = abc_tokenizer();
  // Without an unk token, unknown characters are dropped (and what is left merges).
  EXPECT_EQ(load_tokenizer_json("bpe-no-unk", config)->encode("axyb", false, true), Ids{3});
  config["model"]["unk_token"] = "<unk>";
  EXPECT_EQ(load_tokenizer_json("bpe-unk", config)->encode("axyb", false, true), (Ids{0, 6, 6, 1}));
  config["model"]["fuse_unk"] = true;
  EXPECT_EQ(load_tokenizer_json("bpe-fuse-unk", config)->encode("axyb", false, true), (Ids{0, 6, 1}));
  // Byte fallback spells a missing character in <0x..> tokens when all exist.
  config["model"]["vocab"]["<0x78>"] = 7;  // 'x'
  config["model"]["byte_fallback"] = true;
  const auto bytes = load_tokenizer_json("bpe-bytes", config);
  EXPECT_EQ(bytes->encode("axb", false, true), (Ids{0, 7, 1}));
  EXPECT_EQ(bytes->encode("a\xC3\xA9", false, true), (Ids{0, 6}));  // é has no byte tokens
}

TEST(TokenizerBpeTest, SubwordPrefixAndWordSuffix) {
  Json prefixed = tiny_bpe_tokenizer(Json{{"a", 0}, {"##b", 1}, {"##c", 2}, {"ab", 3}, {"##bc", 4}},
                                     Json::array({"##b ##c", "a ##b"}));
  prefixed["model"]["continuing_subword_prefix"] = "##";
  const auto with_prefix = load_tokenizer_json("bpe-prefix", prefixed);
  EXPECT_EQ(with_prefix->encode("abc", false, true), (Ids{0, 4}));
  EXPECT_EQ(with_prefix->encode("ab", false, true), Ids{3});

  Json suffixed = tiny_bpe_tokenizer(Json{{"a", 0}, {"b", 1}, {"b</w>", 2}, {"ab</w>", 3}}, Json::array({"a b</w>"}));
  suffixed["model"]["end_of_word_suffix"] = "</w>";
  suffixed["decoder"] = {{"type", "BPEDecoder"}, {"suffix", "</w>"}};
  const auto with_suffix = load_tokenizer_json("bpe-suffix", suffixed);
  EXPECT_EQ(with_suffix->encode("ab", false, true), Ids{3});
  EXPECT_EQ(with_suffix->encode("abb", false, true), (Ids{0, 1, 2}));
  EXPECT_EQ(with_suffix->decode(Ids{3, 3}, false), "ab ab");
}

TEST(TokenizerBpeTest, IgnoreMergesTakesWholeWordsFromTheVocabulary) {
  Json config = tiny_bpe_tokenizer(Json{{"a", 0}, {"b", 1}, {"c", 2}, {"bc", 3}, {"abc", 4}}, Json::array({"b c"}));
  EXPECT_EQ(load_tokenizer_json("bpe-merges", config)->encode("abc", false, true), (Ids{0, 3}));
  config["model"]["ignore_merges"] = true;
  EXPECT_EQ(load_tokenizer_json("bpe-ignore-merges", config)->encode("abc", false, true), Ids{4});
}

// a=0 b=1 " "=2 h=3 i=4 hi=5 w=6 <unk>=7, lowercasing, and added tokens
// [M]=10 (special, lstrip), [R]=11 (special, rstrip), w=12 (single word),
// hi=13 (normalized, so it also matches "HI").
Json added_tokens_tokenizer() {
  Json config = tiny_bpe_tokenizer(Json{{"a", 0}, {"b", 1}, {" ", 2}, {"h", 3}, {"i", 4}, {"hi", 5}, {"w", 6}, {"<unk>", 7}},
                                   Json::array({"h i"}));
  config["model"]["unk_token"] = "<unk>";
  config["normalizer"] = {{"type", "Lowercase"}};
  const auto added = [](int id, const char* content, bool special, bool lstrip, bool rstrip, bool single_word,
                        bool normalized) {
    return Json{{"id", id},         {"content", content}, {"special", special},         {"lstrip", lstrip},
                {"rstrip", rstrip}, {"single_word", single_word}, {"normalized", normalized}};
  };
  config["added_tokens"] = Json::array({added(10, "[M]", true, true, false, false, false),
                                        added(11, "[R]", true, false, true, false, false),
                                        added(12, "w", false, false, false, true, false),
                                        added(13, "hi", false, false, false, false, true)});
  return config;
}

TEST(TokenizerAddedTokensTest, StripAndWordOptions) {
  const auto tokenizer = load_tokenizer_json("added-options", added_tokens_tokenizer());
  EXPECT_EQ(tokenizer->vocab_size(), 14);
  EXPECT_EQ(tokenizer->encode("a  [M] b", false, true), (Ids{0, 10, 2, 1}));  // lstrip takes both spaces
  EXPECT_EQ(tokenizer->encode("a [R]  b", false, true), (Ids{0, 2, 11, 1}));  // rstrip takes both spaces
  EXPECT_EQ(tokenizer->encode("a w b", false, true), (Ids{0, 2, 12, 2, 1}));
  EXPECT_EQ(tokenizer->encode("aw", false, true), (Ids{0, 6}));  // not a word of its own
  EXPECT_EQ(tokenizer->encode("HI a", false, true), (Ids{13, 2, 0}));  // found after lowercasing
  // Special tokens need parse_special; the others always match.
  EXPECT_EQ(tokenizer->encode("[M]w", false, false), (Ids{7, 7, 7, 12}));
  EXPECT_EQ(tokenizer->decode(Ids{0, 10, 2, 12}, false), "a [M]   w");
  EXPECT_EQ(tokenizer->decode(Ids{0, 10, 2, 12}, true), "a   w");
  EXPECT_TRUE(tokenizer->model().is_special(10));
  EXPECT_FALSE(tokenizer->model().is_special(12));
  EXPECT_EQ(tokenizer->model().token_id("[R]"), 11);
}

// <s>=3 </s>=4 around each sequence by the file's template.
Json template_tokenizer() {
  Json config = tiny_bpe_tokenizer(Json{{"a", 0}, {"b", 1}, {"ab", 2}, {"<s>", 3}, {"</s>", 4}}, Json::array({"a b"}));
  const auto special = [](const char* content, int id) {
    return Json{{"id", id}, {"content", content}, {"special", true}, {"normalized", false}};
  };
  config["added_tokens"] = Json::array({special("<s>", 3), special("</s>", 4)});
  const auto piece = [](const char* kind, const char* id) { return Json{{kind, {{"id", id}, {"type_id", 0}}}}; };
  config["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", Json::array({piece("SpecialToken", "<s>"), piece("Sequence", "A"), piece("SpecialToken", "</s>")})},
      {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {3}}, {"tokens", {"<s>"}}}},
                          {"</s>", {{"id", "</s>"}, {"ids", {4}}, {"tokens", {"</s>"}}}}}}};
  return config;
}

TEST(TokenizerPolicyRulesTest, TemplateAndExplicitFlags) {
  const auto from_template = load_tokenizer_json("policy-template", template_tokenizer());
  EXPECT_EQ(from_template->prefix_tokens(), Ids{3});
  EXPECT_EQ(from_template->suffix_tokens(), Ids{4});
  EXPECT_EQ(from_template->encode("ab", true, true), (Ids{3, 2, 4}));
  EXPECT_EQ(from_template->bos(), -1);  // nothing names it

  const auto explicit_flags = load_tokenizer_json(
      "policy-flags", template_tokenizer(),
      {{"tokenizer_config.json",
        R"({"add_eos_token": false, "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>"})"}});
  EXPECT_EQ(explicit_flags->prefix_tokens(), Ids{3});
  EXPECT_TRUE(explicit_flags->suffix_tokens().empty());
  EXPECT_EQ(explicit_flags->bos(), 3);
  EXPECT_EQ(explicit_flags->eos(), 4);
}

TEST(TokenizerPolicyRulesTest, ModelConfigsFillTheGaps) {
  // No tokenizer_config.json: ids come from generation_config.json, which
  // also lists every id that ends generation.
  const auto with_generation = load_tokenizer_json(
      "policy-generation", template_tokenizer(),
      {{"generation_config.json", R"({"bos_token_id": 3, "eos_token_id": [4, 1]})"}}, Json{{"eos_token_id", 0}});
  EXPECT_EQ(with_generation->bos(), 3);
  EXPECT_EQ(with_generation->eos(), 4);
  EXPECT_TRUE(with_generation->is_end_of_generation(4));
  EXPECT_TRUE(with_generation->is_end_of_generation(1));
  EXPECT_FALSE(with_generation->is_end_of_generation(0));

  // Without generation_config.json, config.json stands in; ids outside the
  // vocabulary are ignored.
  const auto with_config = load_tokenizer_json("policy-config", template_tokenizer(), {},
                                               Json{{"bos_token_id", 3}, {"eos_token_id", Json::array({4, 2, 99})}});
  EXPECT_EQ(with_config->bos(), 3);
  EXPECT_EQ(with_config->eos(), 4);
  EXPECT_TRUE(with_config->is_end_of_generation(2));
  EXPECT_FALSE(with_config->is_end_of_generation(99));

  // add_bos_token without a known BOS adds nothing rather than a bad id.
  const auto unknown_bos = load_tokenizer_json("policy-unknown-bos", abc_tokenizer(),
                                               {{"tokenizer_config.json", R"({"add_bos_token": true, "bos_token": "<nope>"})"}});
  EXPECT_EQ(unknown_bos->bos(), -1);
  EXPECT_TRUE(unknown_bos->prefix_tokens().empty());
}

}  // namespace
}  // namespace gptq::test
