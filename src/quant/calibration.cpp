#include "quant/calibration.h"

#include <climits>
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

namespace {

void require_positive_seqlen(int32_t seqlen) {
  if (seqlen <= 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "seqlen must be positive");
}

// An empty text adds no sample, not a lone BOS.
std::vector<int32_t> text_tokens(const Tokenizer& tokenizer, std::string_view text) {
  if (text.empty()) return {};
  return tokenizer.encode(text, /*add_special=*/true, /*parse_special=*/false);
}

void add_sample(CalibrationSet& samples, std::vector<int32_t> tokens, int32_t seqlen) {
  if (tokens.empty()) return;
  if (tokens.size() > static_cast<size_t>(seqlen)) tokens.resize(seqlen);
  samples.push_back(std::move(tokens));
}

std::vector<int32_t> token_ids(const Json& ids, const std::string& where) {
  if (!ids.is_array()) fail(GPTQ_ERR_FORMAT, where, ": \"input_ids\" must be an array of token ids");
  std::vector<int32_t> tokens;
  tokens.reserve(ids.size());
  for (const Json& id : ids) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
      fail(GPTQ_ERR_FORMAT, where, ": \"input_ids\" holds ", id.dump(), ", not a token id");
    }
    tokens.push_back(static_cast<int32_t>(id.get<int64_t>()));
  }
  return tokens;
}

}  // namespace

CalibrationSet calibration_from_texts(const Tokenizer& tokenizer, const std::vector<std::string>& texts,
                                      int32_t seqlen) {
  require_positive_seqlen(seqlen);
  CalibrationSet samples;
  for (const std::string& text : texts) add_sample(samples, text_tokens(tokenizer, text), seqlen);
  if (samples.empty()) fail(GPTQ_ERR_INVALID_ARGUMENT, "the calibration texts hold no tokens");
  return samples;
}

CalibrationSet calibration_from_jsonl(const Tokenizer& tokenizer, const std::string& path, int32_t n_samples,
                                      int32_t seqlen) {
  require_positive_seqlen(seqlen);
  std::istringstream lines(read_text_file(path));
  CalibrationSet samples;
  std::string line;
  for (int64_t number = 1; std::getline(lines, line); ++number) {
    if (n_samples > 0 && samples.size() == static_cast<size_t>(n_samples)) break;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = str_cat(path, " line ", number);
    Json object;
    try {
      object = Json::parse(line);
    } catch (const Json::exception& e) {
      fail(GPTQ_ERR_FORMAT, where, " is not valid JSON: ", e.what());
    }
    if (!object.is_object()) fail(GPTQ_ERR_FORMAT, where, " is not a JSON object");
    std::vector<int32_t> tokens;
    if (object.contains("input_ids")) {
      tokens = token_ids(object["input_ids"], where);
    } else if (const auto text = json_string(object, "text", where)) {
      tokens = text_tokens(tokenizer, *text);
    } else {
      fail(GPTQ_ERR_FORMAT, where, " has neither \"text\" nor \"input_ids\"");
    }
    add_sample(samples, std::move(tokens), seqlen);
  }
  if (samples.empty()) fail(GPTQ_ERR_FORMAT, "'", path, "' holds no calibration samples");
  return samples;
}

}  // namespace gptq
