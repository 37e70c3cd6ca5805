// Reader for the safetensors format: an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}},
// then the tensor bytes. Everything in the header is checked before any
// tensor is handed out, so later code can trust shapes and offsets.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/mapped_file.h"

namespace gptq {

enum class DType : uint8_t { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // the safetensors spelling, e.g. "F16"

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // not necessarily aligned
  size_t n_bytes = 0;
  const std::string* file = nullptr;  // where it came from, for messages

  int64_t numel() const;
  int64_t dim(size_t i) const { return shape.at(i); }
  std::string shape_string() const;  // "[384, 1024]"
  std::string label() const;         // "tensor 'w' in 'dir/model.safetensors'", for messages
};

class SafetensorsFile {
 public:
  static std::unique_ptr<SafetensorsFile> open(const std::string& path, bool use_mmap);

  const TensorView* find(std::string_view name) const;
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return file_->path(); }

 private:
  SafetensorsFile() = default;
  std::unique_ptr<MappedFile> file_;
  std::vector<TensorView> tensors_;
  std::unordered_map<std::string_view, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// Copies a float tensor (F32, F16 or BF16) into fp32.
std::vector<float> tensor_to_float(const TensorView& tensor);
// Copies an integer tensor (I64, I32, I16, I8, U8) into int64.
std::vector<int64_t> tensor_to_int64(const TensorView& tensor);

}  // namespace gptq
