// TokenizerModel over the sentencepiece library (tokenizer.model), encoding
// like transformers' LlamaTokenizer with legacy=false: special-token text is
// split off first, and only text at the very start of the input gets
// sentencepiece's dummy "▁" prefix.
#include <sentencepiece_processor.h>

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "core/error.h"
#include "io/mapped_file.h"
#include "tokenizer/literal_matcher.h"
#include "tokenizer/sentencepiece_proto.h"
#include "tokenizer/tokenizer_models.h"
#include "tokenizer/transparent_hash.h"

namespace gptq {
namespace {

const std::string_view kSpaceSymbol = "\xE2\x96\x81";  // "▁"
// Sentencepiece slows down on long inputs (a whole corpus for perplexity),
// so long text is encoded in chunks of about this size where that is exact.
constexpr size_t kChunkBytes = 16 * 1024;

enum class PieceKind : uint8_t { kNormal, kControl, kUnknown, kByte };

std::unique_ptr<sentencepiece::SentencePieceProcessor> load_processor(std::string_view serialized,
                                                                      const std::string& path) {
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const sentencepiece::util::Status status = processor->LoadFromSerializedProto(serialized);
  if (!status.ok()) fail(GPTQ_ERR_FORMAT, "'", path, "' is not a valid sentencepiece model: ", status.ToString());
  return processor;
}

// "<0x0A>" -> 0x0A
unsigned char byte_piece_value(const std::string& piece) {
  return static_cast<unsigned char>(std::stoi(piece.substr(3, 2), nullptr, 16));
}

class SentencePieceModel final : public TokenizerModel {
 public:
  SentencePieceModel(const std::string& path, const std::string& serialized) : path_(path) {
    processor_ = load_processor(serialized, path);
    const SentencePieceNormalizerSpec spec = read_normalizer_spec(serialized, path);
    decode_strips_first_space_ = spec.add_dummy_prefix || spec.remove_extra_whitespaces;
    if (spec.add_dummy_prefix) continuation_ = load_processor(without_dummy_prefix(serialized, path), path);

    const int n = processor_->GetPieceSize();
    pieces_.reserve(n);
    kinds_.reserve(n);
    for (int id = 0; id < n; ++id) {
      const std::string& piece = processor_->IdToPiece(id);
      PieceKind kind = PieceKind::kNormal;
      if (processor_->IsControl(id)) kind = PieceKind::kControl;
      if (processor_->IsUnknown(id)) kind = PieceKind::kUnknown;
      if (processor_->IsByte(id)) kind = PieceKind::kByte;
      pieces_.push_back(piece);
      kinds_.push_back(kind);
      ids_.emplace(piece, id);
      if (kind == PieceKind::kControl || kind == PieceKind::kUnknown) {
        special_ids_.push_back(id);
        specials_.add(piece);
      }
    }
    // No piece can span a newline when none contains one, the normalizer
    // keeps it, and byte fallback encodes it (unknown characters would be
    // fused into one <unk> across a chunk boundary). The text then encodes
    // the same in pieces that end after a newline.
    const auto newline_byte = ids_.find("<0x0A>");
    chunk_at_newlines_ = spec.name == "identity" && !spec.remove_extra_whitespaces && newline_byte != ids_.end() &&
                         kinds_[newline_byte->second] == PieceKind::kByte &&
                         std::none_of(pieces_.begin(), pieces_.end(),
                                      [](const std::string& piece) { return piece.find('\n') != std::string::npos; });
  }

  const char* kind() const override { return "sentencepiece"; }
  int32_t vocab_size() const override { return static_cast<int32_t>(pieces_.size()); }

  std::vector<int32_t> encode(std::string_view text, bool parse_special) const override {
    std::vector<int32_t> ids;
    if (!parse_special) {
      encode_text(*processor_, text, ids);
      return ids;
    }
    // User-defined pieces need no splitting: sentencepiece matches them itself.
    size_t done = 0;
    for (const LiteralMatcher::Match& match : specials_.find_all(text)) {
      encode_text(done == 0 ? *processor_ : continuation(), text.substr(done, match.begin - done), ids);
      ids.push_back(special_ids_[match.pattern]);
      done = match.end;
    }
    encode_text(done == 0 ? *processor_ : continuation(), text.substr(done), ids);
    return ids;
  }

  // Done here rather than by sentencepiece, which would turn byte pieces of
  // an unfinished character into U+FFFD and drop control pieces' text.
  std::string decode(std::span<const int32_t> ids, bool skip_special) const override {
    std::string out;
    bool at_start = true;  // the dummy prefix was added at the start of the text only
    for (const int32_t id : ids) {
      const std::string& piece = pieces_.at(id);
      switch (kinds_[id]) {
        case PieceKind::kControl:
        case PieceKind::kUnknown:
          if (skip_special) continue;
          out += piece;
          break;
        case PieceKind::kByte:
          out.push_back(static_cast<char>(byte_piece_value(piece)));
          break;
        case PieceKind::kNormal: {
          std::string_view rest = piece;
          if (at_start && decode_strips_first_space_ && rest.starts_with(kSpaceSymbol)) {
            rest.remove_prefix(kSpaceSymbol.size());
          }
          append_unescaped(rest, out);
          break;
        }
      }
      at_start = false;
    }
    return out;
  }

  const std::string& token_text(int32_t id) const override { return pieces_.at(id); }

  std::optional<int32_t> token_id(std::string_view text) const override {
    const auto it = ids_.find(text);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }

  bool is_special(int32_t id) const override {
    return kinds_.at(id) == PieceKind::kControl || kinds_.at(id) == PieceKind::kUnknown;
  }

  std::optional<int32_t> bos_id() const { return optional_id(processor_->bos_id()); }
  std::optional<int32_t> eos_id() const { return optional_id(processor_->eos_id()); }

 private:
  static std::optional<int32_t> optional_id(int id) {
    if (id < 0) return std::nullopt;
    return id;
  }

  const sentencepiece::SentencePieceProcessor& continuation() const {
    return continuation_ ? *continuation_ : *processor_;
  }

  // `processor` applies to the start of `text`; later chunks continue it.
  void encode_text(const sentencepiece::SentencePieceProcessor& processor, std::string_view text,
                   std::vector<int32_t>& ids) const {
    const sentencepiece::SentencePieceProcessor* current = &processor;
    while (chunk_at_newlines_ && text.size() > 2 * kChunkBytes) {
      const size_t newline = text.find('\n', kChunkBytes);
      if (newline == std::string_view::npos) break;
      encode_chunk(*current, text.substr(0, newline + 1), ids);
      text.remove_prefix(newline + 1);
      current = &continuation();
    }
    encode_chunk(*current, text, ids);
  }

  void encode_chunk(const sentencepiece::SentencePieceProcessor& processor, std::string_view text,
                    std::vector<int32_t>& ids) const {
    if (text.empty()) return;
    std::vector<int> piece_ids;
    const sentencepiece::util::Status status = processor.Encode(text, &piece_ids);
    if (!status.ok()) fail(GPTQ_ERR_INTERNAL, "sentencepiece (", path_, ") failed to encode: ", status.ToString());
    ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
  }

  static void append_unescaped(std::string_view piece, std::string& out) {
    size_t pos = 0;
    while (pos < piece.size()) {
      const size_t space = piece.find(kSpaceSymbol, pos);
      if (space == std::string_view::npos) {
        out.append(piece.substr(pos));
        break;
      }
      out.append(piece.substr(pos, space - pos));
      out.push_back(' ');
      pos = space + kSpaceSymbol.size();
    }
  }

  std::string path_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> continuation_;
  bool decode_strips_first_space_ = false;
  bool chunk_at_newlines_ = false;
  std::vector<std::string> pieces_;
  std::vector<PieceKind> kinds_;
  StringMap<int32_t> ids_;
  LiteralMatcher specials_;
  std::vector<int32_t> special_ids_;  // indexed like the matcher's patterns
};

}  // namespace

LoadedTokenizerModel load_sentencepiece_model(const std::string& path) {
  const std::string serialized = read_text_file(path);
  auto model = std::make_unique<SentencePieceModel>(path, serialized);
  LoadedTokenizerModel loaded;
  loaded.defaults.bos = model->bos_id();
  loaded.defaults.eos = model->eos_id();
  // LlamaTokenizer's default: add_bos_token=True, add_eos_token=False.
  if (loaded.defaults.bos) loaded.defaults.prefix.push_back(*loaded.defaults.bos);
  loaded.model = std::move(model);
  loaded.file = path;
  return loaded;
}

}  // namespace gptq
