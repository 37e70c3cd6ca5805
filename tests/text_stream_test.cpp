// Streaming text: complete UTF-8 only, stop strings held back and cut.
#include "generate/text_stream.h"
#include "test_util.h"

namespace gptq {
namespace {

// Token i < 256 is byte i; 256 is a special end token.
class ByteModel : public TokenizerModel {
 public:
  const char* kind() const override { return "bytes"; }
  int32_t vocab_size() const override { return 257; }
  std::vector<int32_t> encode(std::string_view text, bool) const override {
    std::vector<int32_t> ids;
    for (unsigned char c : text) ids.push_back(c);
    return ids;
  }
  std::string decode(std::span<const int32_t> ids, bool skip_special) const override {
    std::string out;
    for (int32_t id : ids) {
      if (id == 256) {
        if (!skip_special) out += "<end>";
      } else {
        out += static_cast<char>(id);
      }
    }
    return out;
  }
  const std::string& token_text(int32_t) const override { return empty_; }
  std::optional<int32_t> token_id(std::string_view) const override { return std::nullopt; }
  bool is_special(int32_t id) const override { return id == 256; }

 private:
  std::string empty_;
};

Tokenizer byte_tokenizer() { return Tokenizer(std::make_unique<ByteModel>(), -1, 256, {}, {}, {256}); }

std::vector<std::string> push_all(TextStream& stream, std::string_view bytes, bool* stopped_at_end) {
  std::vector<std::string> pieces;
  bool stopped = false;
  for (unsigned char c : bytes) {
    pieces.push_back(stream.push(c, &stopped));
    if (stopped) break;
  }
  *stopped_at_end = stopped;
  return pieces;
}

TEST(TextStream, ReleasesOnlyCompleteCharacters) {
  const Tokenizer tokenizer = byte_tokenizer();
  const std::vector<std::string> no_stops;
  const int32_t prompt[] = {'a'};
  TextStream stream(tokenizer, prompt, no_stops);
  bool stopped = false;
  const auto pieces = push_all(stream, "x\xE2\x82\xAC!", &stopped);  // x € !
  ASSERT_EQ(pieces.size(), 5u);
  EXPECT_EQ(pieces[0], "x");
  EXPECT_EQ(pieces[1], "");
  EXPECT_EQ(pieces[2], "");
  EXPECT_EQ(pieces[3], "\xE2\x82\xAC");
  EXPECT_EQ(pieces[4], "!");
  EXPECT_EQ(stream.text(), "x\xE2\x82\xAC!");
}

TEST(TextStream, StopStringsAreHeldBackAndCut) {
  const Tokenizer tokenizer = byte_tokenizer();
  const std::vector<std::string> stops = {"END", "\n\n"};
  const int32_t prompt[] = {'>'};
  TextStream stream(tokenizer, prompt, stops);
  bool stopped = false;
  const auto pieces = push_all(stream, "okEN then ENDmore", &stopped);
  EXPECT_TRUE(stopped);
  std::string released;
  for (const auto& p : pieces) released += p;
  released += stream.flush();
  EXPECT_EQ(released, "okEN then ");
  EXPECT_EQ(stream.text(), "okEN then ");
  // "E" and "EN" were held until they could no longer start "END".
  EXPECT_EQ(pieces[2], "");
  EXPECT_EQ(pieces[3], "");
}

TEST(TextStream, FlushReleasesTheHeldTail) {
  const Tokenizer tokenizer = byte_tokenizer();
  const std::vector<std::string> stops = {"STOP"};
  const int32_t prompt[] = {'>'};
  TextStream stream(tokenizer, prompt, stops);
  bool stopped = false;
  EXPECT_EQ(stream.push('h', &stopped), "h");
  EXPECT_EQ(stream.push('S', &stopped), "");
  EXPECT_EQ(stream.push('T', &stopped), "");
  EXPECT_EQ(stream.flush(), "ST");
  EXPECT_FALSE(stopped);
}

TEST(TextStream, SpecialTokensAreLeftOut) {
  const Tokenizer tokenizer = byte_tokenizer();
  const std::vector<std::string> no_stops;
  const int32_t prompt[] = {'a'};
  TextStream stream(tokenizer, prompt, no_stops);
  bool stopped = false;
  stream.push('b', &stopped);
  stream.push(256, &stopped);
  EXPECT_EQ(stream.text(), "b");
}

}  // namespace
}  // namespace gptq
