#include "tokenizer/decoders.h"

#include "tokenizer/byte_level.h"
#include "tokenizer/text_split.h"

namespace gptq {
namespace {

void replace_all(std::string& text, const TextPattern& pattern, std::string_view content) {
  const std::vector<ByteRange> matches = pattern.find_all(text);
  if (matches.empty()) return;
  std::string out;
  size_t done = 0;
  for (const auto& [begin, end] : matches) {
    out.append(text, done, begin - done).append(content);
    done = end;
  }
  out.append(text, done);
  text = std::move(out);
}

class ByteLevelDecoder final : public Decoder {
 public:
  void apply(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& token : tokens) {
      // Added tokens may hold characters outside the alphabet: kept verbatim.
      if (!append_bytes_of_byte_level(token, bytes)) bytes += token;
    }
    tokens.assign(1, std::move(bytes));
  }
};

class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strips_first)
      : replacement_(TextPattern::literal(std::move(replacement))), strips_first_(strips_first) {}
  void apply(std::vector<std::string>& tokens) const override {
    // The reference drops every replacement character of the first token,
    // not only the one its pre-tokenizer prepended.
    for (size_t i = 0; i < tokens.size(); ++i) replace_all(tokens[i], replacement_, i == 0 && strips_first_ ? "" : " ");
  }

 private:
  TextPattern replacement_;
  bool strips_first_;
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(TextPattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void apply(std::vector<std::string>& tokens) const override {
    for (std::string& token : tokens) replace_all(token, pattern_, content_);
  }

 private:
  TextPattern pattern_;
  std::string content_;
};

// "<0x0A>" tokens become the byte they name; runs of them are joined so
// that a character split over several byte tokens comes out whole.
class ByteFallbackDecoder final : public Decoder {
 public:
  void apply(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    bool previous_was_byte = false;
    for (std::string& token : tokens) {
      const int byte = byte_value(token);
      if (byte < 0) {
        out.push_back(std::move(token));
      } else if (previous_was_byte) {
        out.back().push_back(static_cast<char>(byte));
      } else {
        out.emplace_back(1, static_cast<char>(byte));
      }
      previous_was_byte = byte >= 0;
    }
    tokens = std::move(out);
  }

 private:
  static int byte_value(const std::string& token) {
    if (token.size() != 6 || !token.starts_with("<0x") || token.back() != '>') return -1;
    const auto hex = [](char c) {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    const int high = hex(token[3]), low = hex(token[4]);
    return high < 0 || low < 0 ? -1 : high * 16 + low;
  }
};

class FuseDecoder final : public Decoder {
 public:
  void apply(std::vector<std::string>& tokens) const override {
    std::string joined;
    for (const std::string& token : tokens) joined += token;
    tokens.assign(1, std::move(joined));
  }
};

// Removes up to `start` leading and `stop` trailing copies of one character.
class StripDecoder final : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop) : content_(std::move(content)), start_(start), stop_(stop) {}
  void apply(std::vector<std::string>& tokens) const override {
    if (content_.empty()) return;
    for (std::string& token : tokens) {
      size_t begin = 0, end = token.size();
      for (size_t i = 0; i < start_ && token.compare(begin, content_.size(), content_) == 0; ++i) begin += content_.size();
      for (size_t i = 0; i < stop_ && end >= begin + content_.size() &&
                         token.compare(end - content_.size(), content_.size(), content_) == 0;
           ++i) {
        end -= content_.size();
      }
      token = token.substr(begin, end - begin);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

// The end-of-word suffix marks a space, except after the last token.
class BpeSuffixDecoder final : public Decoder {
 public:
  explicit BpeSuffixDecoder(std::string suffix) : suffix_(TextPattern::literal(std::move(suffix))) {}
  void apply(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) replace_all(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
  }

 private:
  TextPattern suffix_;
};

bool metaspace_strips_first(const JsonNode& node) {
  // Older files say add_prefix_space instead of prepend_scheme.
  if (const auto scheme = node.optional_string("prepend_scheme")) return *scheme != "never";
  return node.boolean("add_prefix_space", true);
}

}  // namespace

std::unique_ptr<Decoder> make_decoder(const JsonNode& node) {
  const std::string type = node.type();
  if (type == "Sequence") return std::make_unique<StageSequence<std::vector<std::string>>>(node, "decoders", make_decoder);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace") {
    return std::make_unique<MetaspaceDecoder>(node.optional_string("replacement").value_or("\xE2\x96\x81"),
                                              metaspace_strips_first(node));
  }
  if (type == "Replace") {
    return std::make_unique<ReplaceDecoder>(TextPattern::from_json(node.child("pattern")), node.string("content"));
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    const auto count = [&](const char* key) {
      const int64_t value = node.optional_integer(key).value_or(0);
      if (value < 0) node.fail_format("'", key, "' must not be negative");
      return static_cast<size_t>(value);
    };
    return std::make_unique<StripDecoder>(node.string("content"), count("start"), count("stop"));
  }
  if (type == "BPEDecoder") return std::make_unique<BpeSuffixDecoder>(node.optional_string("suffix").value_or("</w>"));
  node.fail_unsupported("decoder");
}

}  // namespace gptq
