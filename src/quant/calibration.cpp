#include "quant/calibration.h"

#include <sstream>

#include "core/error.h"
#include "generate/rng.h"
#include "io/json_file.h"
#include "io/mapped_file.h"

namespace gptq {

CalibrationSet calibration_windows(const Tokenizer& tokenizer, std::string_view text, int32_t n_samples,
                                   int32_t seqlen, uint64_t seed) {
  if (n_samples <= 0 || seqlen <= 0) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "calibration needs n_samples > 0 and seqlen > 0 (got ", n_samples, " and ", seqlen, ")");
  }
  const std::vector<int32_t> tokens = tokenizer.encode(text, /*add_special=*/false, /*parse_special=*/false);
  if (tokens.size() <= static_cast<size_t>(seqlen)) {
    fail(GPTQ_ERR_INVALID_ARGUMENT, "the calibration text has ", tokens.size(), " tokens; windows of ", seqlen,
         " need more");
  }
  Rng rng(seed);
  const uint64_t last_start = tokens.size() - seqlen - 1;  // as the GPTQ paper: randint(0, len - seqlen - 1)
  CalibrationSet samples;
  for (int32_t s = 0; s < n_samples; ++s) {
    const uint64_t start = rng.next() % (last_start + 1);
    samples.emplace_back(tokens.begin() + start, tokens.begin() + start + seqlen);
  }
  return samples;
}

CalibrationSet calibration_from_texts(const Tokenizer& tokenizer, const std::vector<std::string>& texts,
                                      int32_t seqlen) {
  if (seqlen <= 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "seqlen must be positive");
  CalibrationSet samples;
  for (const std::string& text : texts) {
    std::vector<int32_t> tokens = tokenizer.encode(text, /*add_special=*/true, /*parse_special=*/false);
    if (tokens.empty()) continue;
    if (tokens.size() > static_cast<size_t>(seqlen)) tokens.resize(seqlen);
    samples.push_back(std::move(tokens));
  }
  if (samples.empty()) fail(GPTQ_ERR_INVALID_ARGUMENT, "the calibration texts hold no tokens");
  return samples;
}

std::vector<std::string> read_jsonl_texts(const std::string& path) {
  std::istringstream lines(read_text_file(path));
  std::vector<std::string> texts;
  std::string line;
  for (int64_t number = 1; std::getline(lines, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = str_cat(path, " line ", number);
    Json object;
    try {
      object = Json::parse(line);
    } catch (const Json::exception& e) {
      fail(GPTQ_ERR_FORMAT, where, " is not valid JSON: ", e.what());
    }
    const auto text = json_string(object, "text", where);
    if (!text) fail(GPTQ_ERR_FORMAT, where, " has no \"text\" field");
    texts.push_back(*text);
  }
  if (texts.empty()) fail(GPTQ_ERR_FORMAT, "'", path, "' holds no JSON lines");
  return texts;
}

}  // namespace gptq
