#include "io/checkpoint.h"

#include <dirent.h>

#include <algorithm>
#include <set>

#include "core/error.h"
#include "io/json_file.h"

namespace gptq {
namespace {

std::vector<std::string> list_files(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Shard names come from a file we did not write; they must name a file in
// the checkpoint directory itself, never something elsewhere.
void check_shard_name(const std::string& name, const std::string& index_path) {
  if (!is_plain_file_name(name)) {
    fail(GPTQ_ERR_FORMAT, "'", index_path, "' names shard '", name, "', which is not a file in the checkpoint directory");
  }
}

[[noreturn]] void refuse_pickles_or_fail(const std::string& dir, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    if (ends_with(n, ".bin") || ends_with(n, ".pt") || ends_with(n, ".pth") || ends_with(n, ".ckpt")) {
      fail(GPTQ_ERR_UNSUPPORTED, "'", dir, "' holds PyTorch pickle weights ('", n,
           "'), which libgptq never unpickles (loading them can run arbitrary code); convert the checkpoint to "
           "safetensors, e.g. with transformers' save_pretrained(safe_serialization=True)");
    }
  }
  fail(GPTQ_ERR_NOT_FOUND, "no weights in '", dir, "': expected model.safetensors or model.safetensors.index.json");
}

}  // namespace

void Checkpoint::add_file(std::unique_ptr<SafetensorsFile> file) {
  for (const TensorView& t : file->tensors()) {
    if (!index_.emplace(t.name, &t).second) {
      fail(GPTQ_ERR_FORMAT, "tensor '", t.name, "' is stored twice in '", dir_, "' (again in '", file->path(), "')");
    }
  }
  files_.push_back(std::move(file));
}

std::unique_ptr<Checkpoint> Checkpoint::open(const std::string& dir, bool use_mmap, const std::string& base_name,
                                             const std::function<void(size_t, size_t)>& on_file) {
  if (!directory_exists(dir)) fail(GPTQ_ERR_NOT_FOUND, "checkpoint directory '", dir, "' does not exist");
  std::unique_ptr<Checkpoint> ckpt(new Checkpoint());
  ckpt->dir_ = dir;
  const std::string base = base_name.empty() ? "model" : base_name;

  std::vector<std::string> index_candidates = {base + ".safetensors.index.json"};
  std::vector<std::string> single_candidates = {base + ".safetensors"};
  if (base != "model") {
    index_candidates.push_back("model.safetensors.index.json");
    single_candidates.push_back("model.safetensors");
  }

  for (const auto& name : index_candidates) {
    const std::string index_path = join_path(dir, name);
    if (!file_exists(index_path)) continue;
    const Json index = load_json_file(index_path);
    const auto it = index.find("weight_map");
    if (it == index.end() || !it->is_object()) fail(GPTQ_ERR_FORMAT, "'", index_path, "' has no weight_map object");
    std::vector<std::string> shards;
    std::set<std::string> seen;
    for (const auto& [tensor, shard] : it->items()) {
      if (!shard.is_string()) fail(GPTQ_ERR_FORMAT, "'", index_path, "': weight_map entry '", tensor, "' is not a file name");
      const std::string shard_name = shard.get<std::string>();
      check_shard_name(shard_name, index_path);
      if (seen.insert(shard_name).second) shards.push_back(shard_name);
    }
    if (shards.empty()) fail(GPTQ_ERR_FORMAT, "'", index_path, "' lists no shards");
    std::sort(shards.begin(), shards.end());
    for (size_t i = 0; i < shards.size(); ++i) {
      ckpt->add_file(SafetensorsFile::open(join_path(dir, shards[i]), use_mmap));
      if (on_file) on_file(i + 1, shards.size());
    }
    for (const auto& [tensor, shard] : it->items()) {
      const TensorView* t = ckpt->find(tensor);
      if (t == nullptr || *t->file != join_path(dir, shard.get<std::string>())) {
        fail(GPTQ_ERR_FORMAT, "'", index_path, "' places tensor '", tensor, "' in '", shard.get<std::string>(),
             "', which does not hold it");
      }
    }
    return ckpt;
  }

  for (const auto& name : single_candidates) {
    const std::string path = join_path(dir, name);
    if (!file_exists(path)) continue;
    ckpt->add_file(SafetensorsFile::open(path, use_mmap));
    if (on_file) on_file(1, 1);
    return ckpt;
  }

  // Some checkpoints name their single file freely (gptq_model-4bit-128g.safetensors).
  const std::vector<std::string> names = list_files(dir);
  std::vector<std::string> safetensors;
  for (const auto& n : names) {
    if (ends_with(n, ".safetensors")) safetensors.push_back(n);
  }
  if (safetensors.size() == 1) {
    ckpt->add_file(SafetensorsFile::open(join_path(dir, safetensors[0]), use_mmap));
    if (on_file) on_file(1, 1);
    return ckpt;
  }
  if (safetensors.size() > 1) {
    fail(GPTQ_ERR_NOT_FOUND, "'", dir, "' holds several .safetensors files but no model.safetensors.index.json "
         "saying which belong to the model");
  }
  refuse_pickles_or_fail(dir, names);
}

const TensorView* Checkpoint::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

const TensorView& Checkpoint::require(std::string_view name) const {
  const TensorView* t = find(name);
  if (t == nullptr) fail(GPTQ_ERR_NOT_FOUND, "tensor '", name, "' is missing from the checkpoint in '", dir_, "'");
  return *t;
}

}  // namespace gptq
