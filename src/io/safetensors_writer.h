// Writes safetensors files the way the reference implementation does: JSON
// header padded with spaces to a multiple of 8 bytes, tensors stored in
// header order, contiguous. The file appears under its name only when
// complete (written to a temporary name, then renamed).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace gptq {

struct TensorToWrite {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;  // numel(shape) * dtype_size(dtype) bytes
};

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Writes `contents` to `path` through a temporary file and a rename.
void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace gptq
