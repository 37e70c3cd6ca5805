#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "core/error.h"

namespace gptq {
namespace {

[[noreturn]] void fail_errno(const std::string& what, const std::string& path) {
  const int err = errno;
  fail(err == ENOENT ? GPTQ_ERR_NOT_FOUND : GPTQ_ERR_IO, what, " '", path, "': ", std::strerror(err));
}

struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::unique_ptr<MappedFile> MappedFile::open(const std::string& path, bool use_mmap) {
  FileDescriptor file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0) fail_errno("cannot open", path);
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) fail_errno("cannot stat", path);
  if (!S_ISREG(st.st_mode)) fail(GPTQ_ERR_IO, "'", path, "' is not a regular file");

  std::unique_ptr<MappedFile> result(new MappedFile());
  result->path_ = path;
  result->size_ = static_cast<size_t>(st.st_size);
  if (result->size_ == 0) return result;

  if (use_mmap) {
    void* addr = ::mmap(nullptr, result->size_, PROT_READ, MAP_PRIVATE, file.fd, 0);
    if (addr == MAP_FAILED) fail_errno("cannot map", path);
    result->data_ = static_cast<const uint8_t*>(addr);
    result->mapped_ = true;
    return result;
  }
  auto* buffer = new (std::nothrow) uint8_t[result->size_];
  if (buffer == nullptr) fail(GPTQ_ERR_OUT_OF_MEMORY, "cannot allocate ", result->size_, " bytes to read '", path, "'");
  result->data_ = buffer;
  size_t done = 0;
  while (done < result->size_) {
    const ssize_t n = ::read(file.fd, buffer + done, result->size_ - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_errno("cannot read", path);
    done += static_cast<size_t>(n);
  }
  return result;
}

MappedFile::~MappedFile() {
  if (data_ == nullptr) return;
  if (mapped_) {
    ::munmap(const_cast<uint8_t*>(data_), size_);
  } else {
    delete[] data_;
  }
}

std::string read_text_file(const std::string& path) {
  auto file = MappedFile::open(path, /*use_mmap=*/false);
  return std::string(reinterpret_cast<const char*>(file->data()), file->size());
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool directory_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_plain_file_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find_first_of(std::string_view("/\\\0", 3)) == name.npos;
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

}  // namespace gptq
