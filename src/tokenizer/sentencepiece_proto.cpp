#include "tokenizer/sentencepiece_proto.h"

#include <cstdint>
#include <functional>

#include "core/error.h"

namespace gptq {
namespace {

constexpr uint32_t kNormalizerSpecField = 3;  // ModelProto.normalizer_spec
constexpr uint32_t kNameField = 1;            // NormalizerSpec.name
constexpr uint32_t kAddDummyPrefixField = 3;  // NormalizerSpec.add_dummy_prefix
constexpr uint32_t kRemoveExtraWhitespacesField = 4;
constexpr uint32_t kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;

struct Field {
  uint32_t number;
  uint32_t wire_type;
  uint64_t varint;           // the value of a varint field
  std::string_view payload;  // the bytes of a length-delimited field
  std::string_view raw;      // the whole field, tag included
};

class WireReader {
 public:
  WireReader(std::string_view bytes, const std::string& file) : bytes_(bytes), file_(file) {}

  // Calls `visit` for every field; malformed input is a format error.
  void for_each_field(const std::function<void(const Field&)>& visit) {
    while (pos_ < bytes_.size()) {
      const size_t start = pos_;
      const uint64_t tag = read_varint();
      Field field{static_cast<uint32_t>(tag >> 3), static_cast<uint32_t>(tag & 7), 0, {}, {}};
      switch (field.wire_type) {
        case kVarint: field.varint = read_varint(); break;
        case kFixed64: skip(8); break;
        case kFixed32: skip(4); break;
        case kLengthDelimited: {
          const uint64_t length = read_varint();
          if (length > bytes_.size() - pos_) malformed();
          field.payload = bytes_.substr(pos_, length);
          skip(length);
          break;
        }
        default: malformed();
      }
      field.raw = bytes_.substr(start, pos_ - start);
      visit(field);
    }
  }

 private:
  uint64_t read_varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= bytes_.size()) malformed();
      const auto byte = static_cast<unsigned char>(bytes_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    malformed();
  }
  void skip(uint64_t n) {
    if (n > bytes_.size() - pos_) malformed();
    pos_ += n;
  }
  [[noreturn]] void malformed() const {
    fail(GPTQ_ERR_FORMAT, "'", file_, "' is not a valid sentencepiece model (bad protobuf data at byte ", pos_, ")");
  }

  std::string_view bytes_;
  const std::string& file_;
  size_t pos_ = 0;
};

void append_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

}  // namespace

SentencePieceNormalizerSpec read_normalizer_spec(std::string_view serialized, const std::string& file) {
  SentencePieceNormalizerSpec spec;
  WireReader(serialized, file).for_each_field([&](const Field& field) {
    if (field.number != kNormalizerSpecField || field.wire_type != kLengthDelimited) return;
    WireReader(field.payload, file).for_each_field([&](const Field& inner) {
      if (inner.number == kNameField && inner.wire_type == kLengthDelimited) spec.name = inner.payload;
      if (inner.wire_type != kVarint) return;
      if (inner.number == kAddDummyPrefixField) spec.add_dummy_prefix = inner.varint != 0;
      if (inner.number == kRemoveExtraWhitespacesField) spec.remove_extra_whitespaces = inner.varint != 0;
    });
  });
  return spec;
}

std::string without_dummy_prefix(std::string_view serialized, const std::string& file) {
  // Protobuf keeps the last value of a repeated scalar field, so appending
  // "add_dummy_prefix = false" to the normalizer spec overrides it.
  std::string override_field;
  append_varint(override_field, (kAddDummyPrefixField << 3) | kVarint);
  append_varint(override_field, 0);

  std::string out;
  out.reserve(serialized.size() + 16);
  bool patched = false;
  const auto append_spec = [&](std::string_view content) {
    append_varint(out, (kNormalizerSpecField << 3) | kLengthDelimited);
    append_varint(out, content.size() + override_field.size());
    out.append(content);
    out.append(override_field);
  };
  WireReader(serialized, file).for_each_field([&](const Field& field) {
    if (field.number == kNormalizerSpecField && field.wire_type == kLengthDelimited) {
      append_spec(field.payload);
      patched = true;
    } else {
      out.append(field.raw);
    }
  });
  if (!patched) append_spec({});
  return out;
}

}  // namespace gptq
