#include "io/safetensors_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace gptq {
namespace {

struct FileCloser {
  void operator()(FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};

// Streams into `path`.tmp and renames it over `path` on commit; a failure
// before commit removes the temporary file.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path) : path_(std::move(path)), temp_path_(path_ + ".tmp") {
    file_.reset(std::fopen(temp_path_.c_str(), "wb"));
    if (!file_) fail(GPTQ_ERR_IO, "cannot create '", temp_path_, "': ", std::strerror(errno));
  }
  ~AtomicFile() {
    if (!committed_) {
      file_.reset();
      std::remove(temp_path_.c_str());
    }
  }
  void write(const void* data, size_t n) {
    if (n > 0 && std::fwrite(data, 1, n, file_.get()) != n) {
      fail(GPTQ_ERR_IO, "cannot write '", temp_path_, "': ", std::strerror(errno));
    }
  }
  void commit() {
    if (std::fflush(file_.get()) != 0 || ::fsync(::fileno(file_.get())) != 0) {
      fail(GPTQ_ERR_IO, "cannot flush '", temp_path_, "': ", std::strerror(errno));
    }
    if (std::fclose(file_.release()) != 0) fail(GPTQ_ERR_IO, "cannot close '", temp_path_, "'");
    if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
      fail(GPTQ_ERR_IO, "cannot rename '", temp_path_, "' to '", path_, "': ", std::strerror(errno));
    }
    committed_ = true;
  }

 private:
  std::string path_, temp_path_;
  std::unique_ptr<FILE, FileCloser> file_;
  bool committed_ = false;
};

}  // namespace

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  std::vector<uint64_t> sizes;
  for (const TensorToWrite& t : tensors) {
    uint64_t numel = 1;
    for (int64_t d : t.shape) {
      if (d < 0) fail(GPTQ_ERR_INVALID_ARGUMENT, "tensor '", t.name, "' has a negative dimension");
      numel *= static_cast<uint64_t>(d);
    }
    const uint64_t bytes = numel * dtype_size(t.dtype);
    if (header.contains(t.name)) fail(GPTQ_ERR_INVALID_ARGUMENT, "tensor '", t.name, "' is written twice");
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    sizes.push_back(bytes);
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));

  AtomicFile out(path);
  out.write(length, 8);
  out.write(text.data(), text.size());
  for (size_t i = 0; i < tensors.size(); ++i) out.write(tensors[i].data, sizes[i]);
  out.commit();
}

void write_file_atomically(const std::string& path, const std::string& contents) {
  AtomicFile out(path);
  out.write(contents.data(), contents.size());
  out.commit();
}

}  // namespace gptq
