#include "tokenizer/normalizers.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "tokenizer/text_split.h"
#include "tokenizer/utf8.h"

namespace gptq {
namespace {

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

class UnicodeFormNormalizer final : public Normalizer {
 public:
  explicit UnicodeFormNormalizer(int utf8proc_options) : options_(utf8proc_options) {}
  void apply(std::string& text) const override {
    if (is_ascii(text)) return;  // every normal form leaves ASCII alone
    utf8proc_uint8_t* result = nullptr;
    const utf8proc_ssize_t length =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()), static_cast<utf8proc_ssize_t>(text.size()),
                     &result, static_cast<utf8proc_option_t>(options_));
    if (length < 0) fail(GPTQ_ERR_INTERNAL, "Unicode normalization failed: ", utf8proc_errmsg(length));
    text.assign(reinterpret_cast<const char*>(result), static_cast<size_t>(length));
    std::free(result);
  }

 private:
  int options_;
};

class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  void apply(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(TextPattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void apply(std::string& text) const override {
    const std::vector<ByteRange> matches = pattern_.find_all(text);
    if (matches.empty()) return;
    std::string out;
    out.reserve(text.size() + matches.size() * content_.size());
    size_t done = 0;
    for (const auto& [begin, end] : matches) {
      out.append(text, done, begin - done);
      out.append(content_);
      done = end;
    }
    out.append(text, done);
    text = std::move(out);
  }

 private:
  TextPattern pattern_;
  std::string content_;
};

class LowercaseNormalizer final : public Normalizer {
 public:
  void apply(std::string& text) const override {
    if (is_ascii(text)) {
      std::transform(text.begin(), text.end(), text.begin(),
                     [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
      return;
    }
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size()) {
      const char32_t cp = utf8::next_code_point(text, pos);
      if (cp == 0x130) {  // 'İ' is the one letter whose full lowercase is two code points
        out += "i\xCC\x87";
        continue;
      }
      utf8::append_code_point(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
    }
    text = std::move(out);
  }
};

class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void apply(std::string& text) const override {
    size_t begin = 0, end = text.size();
    if (left_) {
      size_t pos = 0;
      while (pos < text.size() && utf8::is_whitespace(utf8::next_code_point(text, pos))) begin = pos;
    }
    if (right_) {
      // Walk forward, remembering where the last non-space character ended.
      size_t pos = begin, last_content_end = begin;
      while (pos < text.size()) {
        if (!utf8::is_whitespace(utf8::next_code_point(text, pos))) last_content_end = pos;
      }
      end = last_content_end;
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const JsonNode& node) {
  const std::string type = node.type();
  if (type == "Sequence") return std::make_unique<StageSequence<std::string>>(node, "normalizers", make_normalizer);
  if (type == "NFC") return std::make_unique<UnicodeFormNormalizer>(UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  if (type == "NFD") return std::make_unique<UnicodeFormNormalizer>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
  if (type == "NFKC") return std::make_unique<UnicodeFormNormalizer>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
  if (type == "NFKD") return std::make_unique<UnicodeFormNormalizer>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT);
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(node.string("prepend"));
  if (type == "Replace") {
    return std::make_unique<ReplaceNormalizer>(TextPattern::from_json(node.child("pattern")), node.string("content"));
  }
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "Strip") return std::make_unique<StripNormalizer>(node.boolean("strip_left", true), node.boolean("strip_right", true));
  node.fail_unsupported("normalizer");
}

}  // namespace gptq
