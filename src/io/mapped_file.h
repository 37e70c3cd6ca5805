// Read-only bytes of a whole file: memory-mapped (the default, so weights
// are paged in on demand and shared between processes) or read into memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace gptq {

class MappedFile {
 public:
  static std::unique_ptr<MappedFile> open(const std::string& path, bool use_mmap);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
};

// Reads a whole (small) file, such as a JSON config, into a string.
std::string read_text_file(const std::string& path);

bool file_exists(const std::string& path);
bool directory_exists(const std::string& path);
std::string join_path(const std::string& dir, const std::string& name);
// A name that join_path(dir, name) keeps inside dir: no separator, no NUL,
// not "." or "..". Names read from a checkpoint's own files must be one.
bool is_plain_file_name(std::string_view name);

}  // namespace gptq
