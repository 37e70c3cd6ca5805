// Bad input and bad files: each gives a gptq::Error with the right status
// and a message that says what and where.
#include <gtest/gtest.h>

#include <filesystem>

#include "tokenizer_test_support.h"

namespace gptq::test {
namespace {

Json tiny_vocab() { return Json{{"a", 0}, {"b", 1}, {"ab", 2}}; }
Json tiny_merges() { return Json::array({"a b"}); }

TEST(TokenizerErrorsTest, InvalidUtf8IsRejectedWithItsOffset) {
  const auto tokenizer = load_tokenizer_json("tokenizer-utf8", tiny_bpe_tokenizer(tiny_vocab(), tiny_merges()));
  const struct {
    std::string text;
    const char* offset;
  } cases[] = {
      {"ab\xFF", "byte offset 2"},               // never valid
      {"a\xC0\x80", "byte offset 1"},            // overlong NUL
      {"ab\xED\xA0\x80", "byte offset 2"},       // a UTF-16 surrogate
      {"\xF4\x90\x80\x80", "byte offset 0"},     // past U+10FFFF
      {"abab\xE2\x82", "byte offset 4"},         // cut off at the end
      {"a\x80" "b", "byte offset 1"},            // a stray continuation byte
  };
  for (const auto& c : cases) {
    expect_error([&] { tokenizer->encode(c.text, false, true); }, GPTQ_ERR_INVALID_ARGUMENT, c.offset);
  }
  EXPECT_EQ(tokenizer->encode("ab", false, true), std::vector<int32_t>{2});
}

TEST(TokenizerErrorsTest, DecodingIdsOutsideTheVocabulary) {
  const auto tokenizer = load_tokenizer_json("tokenizer-ids", tiny_bpe_tokenizer(tiny_vocab(), tiny_merges()));
  expect_error([&] { tokenizer->decode(std::vector<int32_t>{0, 3}, false); }, GPTQ_ERR_INVALID_ARGUMENT,
               "token id 3 (at position 1)");
  expect_error([&] { tokenizer->decode(std::vector<int32_t>{-1}, false); }, GPTQ_ERR_INVALID_ARGUMENT, "token id -1");
  // With no decoder, tokens are joined by spaces (as tokenizers does).
  EXPECT_EQ(tokenizer->decode(std::vector<int32_t>{2, 0}, false), "ab a");
}

TEST(TokenizerErrorsTest, MalformedTokenizerJson) {
  const auto load_text = [](const std::string& name, const std::string& text) {
    Tokenizer::load(write_files(name, {{"tokenizer.json", text}}), Json::object());
  };
  expect_error([&] { load_text("tokenizer-not-json", "{\"model\": "); }, GPTQ_ERR_FORMAT, "is not valid JSON");
  expect_error([&] { load_text("tokenizer-not-object", "[1, 2]"); }, GPTQ_ERR_FORMAT, "should be a JSON object");
  expect_error([&] { load_text("tokenizer-no-model", "{\"added_tokens\": []}"); }, GPTQ_ERR_FORMAT,
               "tokenizer.json: top level: 'model' is missing");

  Json bad_id = tiny_bpe_tokenizer(Json{{"a", "zero"}}, Json::array());
  expect_error([&] { load_tokenizer_json("tokenizer-bad-id", bad_id); }, GPTQ_ERR_FORMAT,
               "model.vocab: token 'a' has the invalid id \"zero\"");

  Json unknown_merge = tiny_bpe_tokenizer(tiny_vocab(), Json::array({"a c"}));
  expect_error([&] { load_tokenizer_json("tokenizer-bad-merge", unknown_merge); }, GPTQ_ERR_FORMAT,
               "model.merges: merge 0 ('a', 'c') uses a token missing from the vocabulary");

  Json one_token_merge = tiny_bpe_tokenizer(tiny_vocab(), Json::array({"ab"}));
  expect_error([&] { load_tokenizer_json("tokenizer-short-merge", one_token_merge); }, GPTQ_ERR_FORMAT,
               "merge 0 'ab' is not two tokens");

  Json bad_regex = tiny_bpe_tokenizer(tiny_vocab(), tiny_merges());
  bad_regex["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(a"}}}, {"behavior", "Isolated"}};
  expect_error([&] { load_tokenizer_json("tokenizer-bad-regex", bad_regex); }, GPTQ_ERR_FORMAT,
               "pre_tokenizer.pattern: the regex '(a' does not compile");

  Json bad_behavior = tiny_bpe_tokenizer(tiny_vocab(), tiny_merges());
  bad_behavior["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Sideways"}};
  expect_error([&] { load_tokenizer_json("tokenizer-bad-behavior", bad_behavior); }, GPTQ_ERR_FORMAT,
               "unknown split behavior 'Sideways'");

  Json bad_template = tiny_bpe_tokenizer(tiny_vocab(), tiny_merges());
  bad_template["post_processor"] = {{"type", "TemplateProcessing"},
                                    {"single", Json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}})},
                                    {"special_tokens", Json::object()}};
  expect_error([&] { load_tokenizer_json("tokenizer-bad-template", bad_template); }, GPTQ_ERR_FORMAT,
               "the template uses '<s>' which is not defined here");
}

TEST(TokenizerErrorsTest, UnsupportedComponentsAreNamed) {
  Json normalizer = tiny_bpe_tokenizer(tiny_vocab(), tiny_merges());
  normalizer["normalizer"] = {{"type", "Sequence"}, {"normalizers", Json::array({{{"type", "Precompiled"}}})}};
  expect_error([&] { load_tokenizer_json("tokenizer-precompiled", normalizer); }, GPTQ_ERR_UNSUPPORTED,
               "normalizer.normalizers[0]: normalizer type 'Precompiled' is not supported");

  Json pre_tokenizer = tiny_bpe_tokenizer(tiny_vocab(), tiny_merges());
  pre_tokenizer["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
  expect_error([&] { load_tokenizer_json("tokenizer-bert", pre_tokenizer); }, GPTQ_ERR_UNSUPPORTED,
               "pre-tokenizer type 'BertPreTokenizer'");

  Json decoder = tiny_bpe_tokenizer(tiny_vocab(), tiny_merges());
  decoder["decoder"] = {{"type", "WordPiece"}};
  expect_error([&] { load_tokenizer_json("tokenizer-wordpiece", decoder); }, GPTQ_ERR_UNSUPPORTED,
               "decoder type 'WordPiece'");

  Json unigram = tiny_bpe_tokenizer(tiny_vocab(), tiny_merges());
  unigram["model"]["type"] = "Unigram";
  expect_error([&] { load_tokenizer_json("tokenizer-unigram", unigram); }, GPTQ_ERR_UNSUPPORTED,
               "model type 'Unigram'");
}

// A checkpoint shipping both files is still usable when tokenizer.json is not.
TEST(TokenizerErrorsTest, UnsupportedTokenizerJsonFallsBackToTokenizerModel) {
  const std::string model = shared_path("tokenizers/llama2-sp/tokenizer.model");
  GPTQ_REQUIRE_PATH(model);
  Json unigram = tiny_bpe_tokenizer(tiny_vocab(), tiny_merges());
  unigram["model"]["type"] = "Unigram";
  const std::string dir = write_files("tokenizer-fallback", {{"tokenizer.json", unigram.dump()}});
  std::filesystem::create_symlink(model, dir + "/tokenizer.model");
  const auto tokenizer = Tokenizer::load(dir, Json::object());
  EXPECT_STREQ(tokenizer->model().kind(), "sentencepiece");
  EXPECT_EQ(tokenizer->encode("Hello world", false, true), (std::vector<int32_t>{15043, 3186}));
}

TEST(TokenizerErrorsTest, MalformedSentencePieceModel) {
  const std::string dir = write_files("tokenizer-bad-model", {{"tokenizer.model", "this is not a protobuf\xFF\xFF"}});
  expect_error([&] { Tokenizer::load(dir, Json::object()); }, GPTQ_ERR_FORMAT, dir + "/tokenizer.model");
}

TEST(TokenizerErrorsTest, MalformedTokenizerConfig) {
  const Json tokenizer = tiny_bpe_tokenizer(tiny_vocab(), tiny_merges());
  expect_error([&] { load_tokenizer_json("tokenizer-config-bos", tokenizer, {{"tokenizer_config.json", R"({"bos_token": 5})"}}); },
               GPTQ_ERR_FORMAT, "tokenizer_config.json: 'bos_token' should be a string or an object");
  expect_error([&] { load_tokenizer_json("tokenizer-config-add", tokenizer, {{"tokenizer_config.json", R"({"add_bos_token": "yes"})"}}); },
               GPTQ_ERR_FORMAT, "'add_bos_token' should be true or false");
  expect_error([&] { load_tokenizer_json("tokenizer-config-eos-id", tokenizer, {}, Json{{"eos_token_id", "2"}}); },
               GPTQ_ERR_FORMAT, "config.json: 'eos_token_id' should be an integer or a list of integers");
}

}  // namespace
}  // namespace gptq::test
