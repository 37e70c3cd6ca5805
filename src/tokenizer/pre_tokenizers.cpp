#include "tokenizer/pre_tokenizers.h"

#include <functional>

#include "tokenizer/byte_level.h"
#include "tokenizer/text_split.h"
#include "tokenizer/utf8.h"

namespace gptq {
namespace {

using SplitFunction = std::function<std::vector<ByteRange>(std::string_view)>;

// Replaces every piece by the pieces `split` cuts it into.
void split_each(std::vector<TextPiece>& pieces, const SplitFunction& split) {
  std::vector<TextPiece> result;
  result.reserve(pieces.size());
  for (TextPiece& piece : pieces) {
    for (const auto& [begin, end] : split(piece.text)) {
      result.push_back({piece.text.substr(begin, end - begin), piece.at_input_start && begin == 0});
    }
  }
  pieces = std::move(result);
}

// Split, and the fixed-pattern pre-tokenizers that are a Split in disguise.
class PatternPreTokenizer final : public PreTokenizer {
 public:
  PatternPreTokenizer(TextPattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void apply(std::vector<TextPiece>& pieces) const override {
    split_each(pieces, [this](std::string_view text) {
      return split_spans(spans_of_matches(text.size(), pattern_.find_all(text)), behavior_, invert_);
    });
  }

 private:
  TextPattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

// Digits, Punctuation, WhitespaceSplit: each matching character is a match.
class CharClassPreTokenizer final : public PreTokenizer {
 public:
  CharClassPreTokenizer(bool (*predicate)(char32_t), SplitBehavior behavior)
      : predicate_(predicate), behavior_(behavior) {}
  void apply(std::vector<TextPiece>& pieces) const override {
    split_each(pieces, [this](std::string_view text) { return split_spans(spans_of_chars(text, predicate_), behavior_); });
  }

 private:
  bool (*predicate_)(char32_t);
  SplitBehavior behavior_;
};

class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex, const std::string& where)
      : add_prefix_space_(add_prefix_space) {
    if (use_regex) split_ = std::make_unique<PatternPreTokenizer>(TextPattern::regex(kGpt2SplitRegex, where),
                                                                   SplitBehavior::kIsolated, false);
  }
  void apply(std::vector<TextPiece>& pieces) const override {
    if (add_prefix_space_) {
      for (TextPiece& piece : pieces) {
        if (!piece.text.starts_with(' ')) piece.text.insert(piece.text.begin(), ' ');
      }
    }
    if (split_) split_->apply(pieces);
    std::string mapped;
    for (TextPiece& piece : pieces) {
      mapped.clear();
      append_byte_level(piece.text, mapped);
      piece.text.swap(mapped);
    }
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<PatternPreTokenizer> split_;
};

class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  enum class Prepend { kAlways, kFirst, kNever };
  MetaspacePreTokenizer(std::string replacement, Prepend prepend, bool split)
      : replacement_(std::move(replacement)), delimiter_(TextPattern::literal(replacement_)), prepend_(prepend), split_(split) {}
  void apply(std::vector<TextPiece>& pieces) const override {
    for (TextPiece& piece : pieces) {
      if (piece.text.find(' ') != std::string::npos) piece.text = replace_spaces(piece.text);
      const bool prepend = prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && piece.at_input_start);
      if (prepend && !piece.text.starts_with(replacement_)) piece.text.insert(0, replacement_);
    }
    if (!split_) return;
    split_each(pieces, [this](std::string_view text) {
      return split_spans(spans_of_matches(text.size(), delimiter_.find_all(text)), SplitBehavior::kMergedWithNext);
    });
  }

 private:
  std::string replace_spaces(const std::string& text) const {
    std::string out;
    out.reserve(text.size() + text.size() / 2);
    for (const char c : text) {
      if (c == ' ') {
        out += replacement_;
      } else {
        out.push_back(c);
      }
    }
    return out;
  }

  std::string replacement_;
  TextPattern delimiter_;
  Prepend prepend_;
  bool split_;
};

MetaspacePreTokenizer::Prepend metaspace_prepend_scheme(const JsonNode& node) {
  // Files written before prepend_scheme existed say add_prefix_space instead.
  const auto scheme = node.optional_string("prepend_scheme");
  if (!scheme) return node.boolean("add_prefix_space", true) ? MetaspacePreTokenizer::Prepend::kAlways
                                                              : MetaspacePreTokenizer::Prepend::kNever;
  if (*scheme == "always") return MetaspacePreTokenizer::Prepend::kAlways;
  if (*scheme == "first") return MetaspacePreTokenizer::Prepend::kFirst;
  if (*scheme == "never") return MetaspacePreTokenizer::Prepend::kNever;
  node.fail_format("'prepend_scheme' has the unknown value '", *scheme, "'");
}

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonNode& node) {
  const std::string type = node.type();
  if (type == "Sequence") {
    return std::make_unique<StageSequence<std::vector<TextPiece>>>(node, "pretokenizers", make_pre_tokenizer);
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(node.boolean("add_prefix_space", true),
                                                   node.boolean("use_regex", true), node.where());
  }
  if (type == "Split") {
    return std::make_unique<PatternPreTokenizer>(TextPattern::from_json(node.child("pattern")),
                                                 split_behavior_from_json(node, "behavior", SplitBehavior::kIsolated),
                                                 node.boolean("invert", false));
  }
  if (type == "Metaspace") {
    return std::make_unique<MetaspacePreTokenizer>(node.optional_string("replacement").value_or("\xE2\x96\x81"),
                                                   metaspace_prepend_scheme(node), node.boolean("split", true));
  }
  if (type == "Digits") {
    return std::make_unique<CharClassPreTokenizer>(
        utf8::is_numeric, node.boolean("individual_digits", false) ? SplitBehavior::kIsolated : SplitBehavior::kContiguous);
  }
  if (type == "Whitespace") {
    // Keeps the matches of \w+|[^\w\s]+ and drops the rest.
    return std::make_unique<PatternPreTokenizer>(TextPattern::regex(R"(\w+|[^\w\s]+)", node.where()),
                                                 SplitBehavior::kRemoved, true);
  }
  if (type == "WhitespaceSplit") return std::make_unique<CharClassPreTokenizer>(utf8::is_whitespace, SplitBehavior::kRemoved);
  if (type == "Punctuation") {
    return std::make_unique<CharClassPreTokenizer>(utf8::is_punctuation,
                                                   split_behavior_from_json(node, "behavior", SplitBehavior::kIsolated));
  }
  node.fail_unsupported("pre-tokenizer");
}

}  // namespace gptq
