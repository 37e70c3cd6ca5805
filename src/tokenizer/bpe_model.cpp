#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <cstdio>

#include "core/log.h"
#include "tokenizer/utf8.h"

namespace gptq {
namespace {

// Ids beyond this are surely a corrupt file, not a vocabulary.
constexpr int64_t kMaxTokenId = 1 << 24;

}  // namespace

BpeModel::BpeModel(const JsonNode& model) {
  if (!model.json().is_object()) model.fail_format("should be an object but is ", json_excerpt(model.json()));
  const auto type = model.optional_string("type");
  if (type ? *type != "BPE" : !model.has("merges")) model.fail_unsupported("model");
  // "dropout" only matters when training; encoding is deterministic here.
  fuse_unk_ = model.boolean("fuse_unk", false);
  byte_fallback_ = model.boolean("byte_fallback", false);
  ignore_merges_ = model.boolean("ignore_merges", false);
  continuing_subword_prefix_ = model.optional_string("continuing_subword_prefix").value_or("");
  end_of_word_suffix_ = model.optional_string("end_of_word_suffix").value_or("");
  load_vocab(model.child("vocab"));
  load_merges(model.child("merges"));  // needs the subword prefix
  if (const auto unk = model.optional_string("unk_token")) {
    unk_id_ = token_id(*unk);
    if (!unk_id_) log_warn(model.where(), ": unk_token '", *unk, "' is not in the vocabulary; unknown text is dropped");
  }
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", byte);
    byte_token_ids_[byte] = token_id(name).value_or(-1);
  }
}

void BpeModel::load_vocab(const JsonNode& vocab) {
  if (!vocab.json().is_object()) vocab.fail_format("should be an object {token: id} but is ", vocab.json().type_name());
  vocab_.reserve(vocab.json().size());
  int64_t max_id = -1;
  for (const auto& [text, id_json] : vocab.json().items()) {
    if (!id_json.is_number_integer() || id_json.get<int64_t>() < 0 || id_json.get<int64_t>() > kMaxTokenId) {
      vocab.fail_format("token '", text, "' has the invalid id ", json_excerpt(id_json));
    }
    const int64_t id = id_json.get<int64_t>();
    vocab_.emplace(text, static_cast<int32_t>(id));
    max_id = std::max(max_id, id);
  }
  tokens_.assign(static_cast<size_t>(max_id + 1), std::string());
  has_token_.assign(static_cast<size_t>(max_id + 1), false);
  for (const auto& [text, id] : vocab_) {
    if (has_token_[id]) continue;  // two spellings for one id: keep one
    tokens_[id] = text;
    has_token_[id] = true;
  }
}

void BpeModel::load_merges(const JsonNode& merges) {
  const Json& list = merges.json();
  if (!list.is_array()) merges.fail_format("should be a list but is ", list.type_name());
  merges_.reserve(list.size());
  in_merge_rule_.assign(tokens_.size(), false);
  const size_t prefix_length = continuing_subword_prefix_.size();
  for (size_t rank = 0; rank < list.size(); ++rank) {
    const Json& entry = list[rank];
    std::string left, right;
    // Two spellings: "a b" (older files) or ["a", "b"] (tokens may hold spaces).
    if (entry.is_string()) {
      const std::string& text = entry.get_ref<const std::string&>();
      const size_t space = text.find(' ');
      if (space == std::string::npos) merges.fail_format("merge ", rank, " '", text, "' is not two tokens");
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string()) {
      left = entry[0].get<std::string>();
      right = entry[1].get<std::string>();
    } else {
      merges.fail_format("merge ", rank, " should be \"a b\" or [\"a\", \"b\"] but is ", json_excerpt(entry));
    }
    const auto left_id = token_id(left);
    const auto right_id = token_id(right);
    const std::string merged = left + (right.size() >= prefix_length ? right.substr(prefix_length) : right);
    const auto merged_id = token_id(merged);
    if (!left_id || !right_id || !merged_id) {
      merges.fail_format("merge ", rank, " ('", left, "', '", right, "') uses a token missing from the vocabulary");
    }
    // A repeated pair takes its last rank, as the reference implementation's map does.
    merges_.insert_or_assign(MergeTable::key(*left_id, *right_id), {static_cast<uint32_t>(rank), *merged_id});
    in_merge_rule_[*left_id] = true;
    in_merge_rule_[*right_id] = true;
  }
}

const std::string* BpeModel::token_text(int32_t id) const {
  if (id < 0 || id >= size() || !has_token_[id]) return nullptr;
  return &tokens_[id];
}

std::optional<int32_t> BpeModel::token_id(std::string_view text) const {
  const auto it = vocab_.find(text);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (const auto whole = token_id(word)) {
      ids.push_back(*whole);
      return;
    }
  }
  if (cache_.lookup(word, ids)) return;
  std::vector<int32_t> symbols;
  initial_symbols(word, symbols);
  merge(symbols);
  cache_.insert(word, symbols.data(), symbols.size());
  ids.insert(ids.end(), symbols.begin(), symbols.end());
}

void BpeModel::initial_symbols(std::string_view word, std::vector<int32_t>& ids) const {
  ids.reserve(word.size());
  int32_t pending_unk = -1;
  std::string decorated;
  size_t pos = 0;
  while (pos < word.size()) {
    const size_t begin = pos;
    pos = std::min(word.size(), pos + utf8::sequence_length(static_cast<unsigned char>(word[pos])));
    std::string_view symbol = word.substr(begin, pos - begin);
    const bool first = begin == 0, last = pos == word.size();
    if ((!first && !continuing_subword_prefix_.empty()) || (last && !end_of_word_suffix_.empty())) {
      decorated.assign(first ? "" : continuing_subword_prefix_).append(symbol).append(last ? end_of_word_suffix_ : "");
      symbol = decorated;
    }
    if (const auto id = token_id(symbol)) {
      if (pending_unk >= 0) ids.push_back(pending_unk);
      pending_unk = -1;
      ids.push_back(*id);
      continue;
    }
    if (byte_fallback_ && std::all_of(symbol.begin(), symbol.end(), [&](char c) {
          return byte_token_ids_[static_cast<unsigned char>(c)] >= 0;
        })) {
      // Like the reference, a pending unknown is not flushed before bytes.
      for (const char c : symbol) ids.push_back(byte_token_ids_[static_cast<unsigned char>(c)]);
      continue;
    }
    if (!unk_id_) continue;  // no unk token: the character is dropped, as the reference does
    if (pending_unk >= 0 && !fuse_unk_) ids.push_back(pending_unk);
    pending_unk = *unk_id_;
  }
  if (pending_unk >= 0) ids.push_back(pending_unk);
}

void BpeModel::merge(std::vector<int32_t>& ids) const {
  // Merges never cross a symbol that no merge rule mentions, so the
  // stretches between such symbols merge independently. That keeps the work
  // local for the very long words of tokenizers without a pre-tokenizer.
  MergeScratch scratch;
  size_t kept = 0, run_begin = 0;
  for (size_t i = 0; i <= ids.size(); ++i) {
    if (i < ids.size() && in_merge_rule_[ids[i]]) continue;
    kept = merge_run(ids, run_begin, i, kept, scratch);
    if (i < ids.size()) ids[kept++] = ids[i];
    run_begin = i + 1;
  }
  ids.resize(kept);
}

size_t BpeModel::merge_run(std::vector<int32_t>& ids, size_t begin, size_t end, size_t out, MergeScratch& scratch) const {
  const size_t n = end - begin;
  if (n < 2) {
    if (n == 1) ids[out++] = ids[begin];
    return out;
  }
  // A doubly linked list over the symbols; merged-away ones are marked dead.
  int32_t* symbols = ids.data() + begin;
  scratch.prev.resize(n);
  scratch.next.resize(n);
  scratch.alive.assign(n, true);
  auto& [prev, next, alive, queue] = scratch;
  const auto push_candidate = [&](size_t left, size_t right) {
    if (const MergeTable::Result* rule = merges_.find(symbols[left], symbols[right])) {
      queue.push({rule->rank, static_cast<uint32_t>(left), rule->id});
    }
  };
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
    if (i + 1 < n) push_candidate(i, i + 1);
  }
  while (!queue.empty()) {
    const MergeCandidate top = queue.top();
    queue.pop();
    if (!alive[top.pos] || next[top.pos] < 0) continue;
    const int32_t right = next[top.pos];
    // Skip entries made stale by an earlier merge of either symbol.
    const MergeTable::Result* rule = merges_.find(symbols[top.pos], symbols[right]);
    if (rule == nullptr || rule->id != top.id) continue;
    symbols[top.pos] = top.id;
    alive[right] = false;
    next[top.pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = static_cast<int32_t>(top.pos);
    if (prev[top.pos] >= 0) push_candidate(prev[top.pos], top.pos);
    if (next[top.pos] >= 0) push_candidate(top.pos, next[top.pos]);
  }
  for (size_t i = 0; i < n; ++i) {
    if (alive[i]) ids[out++] = symbols[i];
  }
  return out;
}

}  // namespace gptq
