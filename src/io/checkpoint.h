// The weights of a Hugging Face checkpoint directory: one safetensors file
// or the shards listed by an index, presented as one set of named tensors.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/safetensors.h"

namespace gptq {

class Checkpoint {
 public:
  // `base_name` is the weights' file name without ".safetensors"
  // (quantize_config.json's model_file_base_name); empty means "model".
  // `on_file` is called after each file is opened with (done, total).
  static std::unique_ptr<Checkpoint> open(const std::string& dir, bool use_mmap, const std::string& base_name,
                                          const std::function<void(size_t, size_t)>& on_file = {});

  const TensorView* find(std::string_view name) const;
  // GPTQ_ERR_NOT_FOUND naming the tensor and the checkpoint when absent.
  const TensorView& require(std::string_view name) const;
  const std::string& dir() const { return dir_; }
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  size_t tensor_count() const { return index_.size(); }

 private:
  Checkpoint() = default;
  void add_file(std::unique_ptr<SafetensorsFile> file);

  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::unordered_map<std::string_view, const TensorView*> index_;
};

}  // namespace gptq
