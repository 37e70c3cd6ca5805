// The tokenizer.json building blocks one by one, on the examples the
// tokenizers library documents for them.
#include <gtest/gtest.h>

#include "tokenizer/byte_level.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/regex.h"
#include "tokenizer/text_split.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_support.h"

namespace gptq::test {
namespace {

std::string normalize(const Json& config, std::string text) {
  make_normalizer(JsonNode(config, "test.json", "normalizer"))->apply(text);
  return text;
}

std::vector<std::string> pre_tokenize(const Json& config, std::vector<TextPiece> pieces) {
  make_pre_tokenizer(JsonNode(config, "test.json", "pre_tokenizer"))->apply(pieces);
  std::vector<std::string> texts;
  for (const TextPiece& piece : pieces) texts.push_back(piece.text);
  return texts;
}

std::vector<std::string> pre_tokenize(const Json& config, const std::string& text) {
  return pre_tokenize(config, {{text, true}});
}

std::vector<std::string> decode(const Json& config, std::vector<std::string> tokens) {
  make_decoder(JsonNode(config, "test.json", "decoder"))->apply(tokens);
  return tokens;
}

using Strings = std::vector<std::string>;

TEST(TokenizerSplitTest, BehaviorsCutLikeTheReference) {
  const std::string text = "the-final--countdown";
  const auto split = [&](SplitBehavior behavior, bool invert = false) {
    Strings pieces;
    const auto spans = spans_of_matches(text.size(), TextPattern::literal("-").find_all(text));
    for (const auto& [begin, end] : split_spans(spans, behavior, invert)) pieces.push_back(text.substr(begin, end - begin));
    return pieces;
  };
  EXPECT_EQ(split(SplitBehavior::kRemoved), (Strings{"the", "final", "countdown"}));
  EXPECT_EQ(split(SplitBehavior::kIsolated), (Strings{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split(SplitBehavior::kMergedWithPrevious), (Strings{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split(SplitBehavior::kMergedWithNext), (Strings{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split(SplitBehavior::kContiguous), (Strings{"the", "-", "final", "--", "countdown"}));
  EXPECT_EQ(split(SplitBehavior::kRemoved, true), (Strings{"-", "-", "-"}));
}

TEST(TokenizerRegexTest, MatchesLikeOniguruma) {
  const Regex gpt2(kGpt2SplitRegex, "test");
  // \s+(?!\S) leaves the last space of a run to the following word.
  EXPECT_EQ(gpt2.find_all("Hello   world's 42!!"),
            (std::vector<ByteRange>{{0, 5}, {5, 7}, {7, 13}, {13, 15}, {15, 18}, {18, 20}}));
  // An empty match right after a match is skipped, elsewhere it counts.
  const Regex maybe_a("a*", "test");
  EXPECT_EQ(maybe_a.find_all("baab"), (std::vector<ByteRange>{{0, 0}, {1, 3}, {4, 4}}));
  // Case-insensitive groups and Unicode classes work on non-ASCII text.
  const Regex contraction("(?i:'s|'t)|\\p{L}+", "test");
  EXPECT_EQ(contraction.find_all("ÉTÉ'S"), (std::vector<ByteRange>{{0, 5}, {5, 7}}));
  expect_error([] { Regex("[", "where"); }, GPTQ_ERR_FORMAT, "where: the regex '[' does not compile");
}

TEST(TokenizerNormalizerTest, EachTypeRewritesText) {
  EXPECT_EQ(normalize({{"type", "NFC"}}, "e\xCC\x81"), "\xC3\xA9");
  EXPECT_EQ(normalize({{"type", "NFD"}}, "\xC3\xA9"), "e\xCC\x81");
  EXPECT_EQ(normalize({{"type", "NFKC"}}, "\xEF\xAC\x81 \xE2\x91\xA0"), "fi 1");  // "ﬁ ①"
  EXPECT_EQ(normalize({{"type", "NFKD"}}, "\xEF\xAC\x81\xC3\xA9"), "fie\xCC\x81");
  EXPECT_EQ(normalize({{"type", "Lowercase"}}, "\xC3\x80" "Bc\xC4\xB0"), "\xC3\xA0" "bci\xCC\x87");  // ÀBcİ
  EXPECT_EQ(normalize({{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}}, " \t a b\xE3\x80\x80\n"), "a b");
  EXPECT_EQ(normalize({{"type", "Strip"}, {"strip_left", false}, {"strip_right", true}}, "  a  "), "  a");
  EXPECT_EQ(normalize({{"type", "Prepend"}, {"prepend", "_"}}, "x"), "_x");
  EXPECT_EQ(normalize({{"type", "Prepend"}, {"prepend", "_"}}, ""), "");
  EXPECT_EQ(normalize({{"type", "Replace"}, {"pattern", {{"Regex", " {2,}"}}}, {"content", " "}}, "a   b  c"), "a b c");
  EXPECT_EQ(normalize({{"type", "Replace"}, {"pattern", {{"String", "ab"}}}, {"content", "x"}}, "aabab"), "axx");
  const Json sequence = {{"type", "Sequence"},
                         {"normalizers", Json::array({{{"type", "NFKC"}}, {{"type", "Lowercase"}}})}};
  EXPECT_EQ(normalize(sequence, "\xEF\xBC\xA1" "B"), "ab");  // fullwidth A
}

TEST(TokenizerPreTokenizerTest, EachTypeCutsText) {
  EXPECT_EQ(pre_tokenize({{"type", "Digits"}, {"individual_digits", true}}, "a123b"), (Strings{"a", "1", "2", "3", "b"}));
  EXPECT_EQ(pre_tokenize({{"type", "Digits"}, {"individual_digits", false}}, "a123b4"), (Strings{"a", "123", "b", "4"}));
  EXPECT_EQ(pre_tokenize({{"type", "Whitespace"}}, "Hey friend!  How are you?!?"),
            (Strings{"Hey", "friend", "!", "How", "are", "you", "?!?"}));
  EXPECT_EQ(pre_tokenize({{"type", "WhitespaceSplit"}}, "Hey friend!\t How"), (Strings{"Hey", "friend!", "How"}));
  EXPECT_EQ(pre_tokenize({{"type", "Punctuation"}}, "Hey, friend!"), (Strings{"Hey", ",", " friend", "!"}));
  EXPECT_EQ(pre_tokenize({{"type", "Punctuation"}, {"behavior", "MergedWithPrevious"}}, "Hey, friend!"),
            (Strings{"Hey,", " friend!"}));
  EXPECT_EQ(pre_tokenize({{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Removed"}, {"invert", false}},
                         "a b  c"),
            (Strings{"a", "b", "c"}));
  EXPECT_EQ(pre_tokenize({{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}}, "Hi  there\n"),
            (Strings{"\xC4\xA0Hi", "\xC4\xA0", "\xC4\xA0there", "\xC4\x8A"}));  // Ġ and Ċ
  const Json sequence = {{"type", "Sequence"},
                         {"pretokenizers", Json::array({{{"type", "WhitespaceSplit"}},
                                                        {{"type", "Digits"}, {"individual_digits", true}}})}};
  EXPECT_EQ(pre_tokenize(sequence, "ab12 c3"), (Strings{"ab", "1", "2", "c", "3"}));
}

TEST(TokenizerPreTokenizerTest, MetaspacePrependSchemes) {
  const std::string bar = "\xE2\x96\x81";  // ▁
  const std::vector<TextPiece> pieces = {{"Hey friend", true}, {"there", false}};
  const auto metaspace = [&](const char* scheme, bool split) {
    return pre_tokenize({{"type", "Metaspace"}, {"replacement", bar}, {"prepend_scheme", scheme}, {"split", split}}, pieces);
  };
  EXPECT_EQ(metaspace("always", true), (Strings{bar + "Hey", bar + "friend", bar + "there"}));
  EXPECT_EQ(metaspace("first", true), (Strings{bar + "Hey", bar + "friend", "there"}));
  EXPECT_EQ(metaspace("never", false), (Strings{"Hey" + bar + "friend", "there"}));
  // Older files: add_prefix_space instead of prepend_scheme.
  EXPECT_EQ(pre_tokenize({{"type", "Metaspace"}, {"replacement", bar}, {"add_prefix_space", true}}, "a b"),
            (Strings{bar + "a", bar + "b"}));
}

TEST(TokenizerDecoderTest, EachTypeRebuildsText) {
  const std::string bar = "\xE2\x96\x81";
  // The reference drops every "▁" of the first token, not just one.
  EXPECT_EQ(decode({{"type", "Metaspace"}, {"replacement", bar}, {"prepend_scheme", "always"}},
                   {bar + bar + "Hey", bar + "friend"}),
            (Strings{"Hey", " friend"}));
  EXPECT_EQ(decode({{"type", "Metaspace"}, {"replacement", bar}, {"prepend_scheme", "never"}}, {bar + "Hey"}),
            (Strings{" Hey"}));
  // Byte tokens of a finished character join up; an unfinished one stays raw.
  EXPECT_EQ(decode({{"type", "ByteFallback"}}, {"a", "<0xC3>", "<0xA9>", "b", "<0xF0>", "<0x9F>"}),
            (Strings{"a", "\xC3\xA9", "b", "\xF0\x9F"}));
  EXPECT_EQ(decode({{"type", "ByteFallback"}}, {"<0xZZ>", "<0x41>"}), (Strings{"<0xZZ>", "A"}));
  EXPECT_EQ(decode({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 2}}, {"  a   ", " "}),
            (Strings{" a ", ""}));
  EXPECT_EQ(decode({{"type", "Fuse"}}, {"a", "b", "c"}), (Strings{"abc"}));
  EXPECT_EQ(decode({{"type", "Replace"}, {"pattern", {{"String", bar}}}, {"content", " "}}, {bar + "a" + bar}),
            (Strings{" a "}));
  EXPECT_EQ(decode({{"type", "BPEDecoder"}, {"suffix", "</w>"}}, {"hel", "lo</w>", "you</w>"}),
            (Strings{"hel", "lo ", "you"}));
  // Ġ is a space; a token with a character outside the byte alphabet is
  // kept verbatim; "âĿ" is the unfinished bytes E2 9D.
  EXPECT_EQ(decode({{"type", "ByteLevel"}}, {"\xC4\xA0Hi", "\xF0\x9F\x99\x82", "\xC3\xA2\xC4\xBF"}),
            (Strings{" Hi\xF0\x9F\x99\x82\xE2\x9D"}));
  const Json sequence = {{"type", "Sequence"},
                         {"decoders", Json::array({{{"type", "ByteFallback"}}, {{"type", "Fuse"}}})}};
  EXPECT_EQ(decode(sequence, {"<0x61>", "b"}), (Strings{"ab"}));
}

TEST(TokenizerUtf8Test, SanitizeKeepsOnlyAnUnfinishedTail) {
  EXPECT_EQ(utf8::sanitize("a\xF0\x9F", true), "a\xF0\x9F");
  EXPECT_EQ(utf8::sanitize("a\xF0\x9F", false), "a\xEF\xBF\xBD");
  EXPECT_EQ(utf8::sanitize("\xF0\x9F" "b\xFF", true), "\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  EXPECT_EQ(utf8::sanitize("\xC3\xA9\xE2\x82\xAC", true), "\xC3\xA9\xE2\x82\xAC");
  EXPECT_FALSE(utf8::first_invalid_byte("plain ASCII long enough for the fast path \xC3\xA9"));
}

}  // namespace
}  // namespace gptq::test
