#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "core/error.h"
#include "core/half.h"
#include "io/json_file.h"

namespace gptq {
namespace {

// Real headers are a few MB at most; a larger one is corrupt or hostile.
constexpr uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

struct DTypeEntry {
  const char* name;
  DType dtype;
  size_t size;
};

constexpr DTypeEntry kDTypes[] = {
    {"F64", DType::F64, 8}, {"F32", DType::F32, 4}, {"F16", DType::F16, 2},
    {"BF16", DType::BF16, 2}, {"I64", DType::I64, 8}, {"I32", DType::I32, 4},
    {"I16", DType::I16, 2}, {"I8", DType::I8, 1},   {"U8", DType::U8, 1},
    {"BOOL", DType::BOOL, 1},
};

const DTypeEntry* find_dtype(std::string_view name) {
  for (const auto& entry : kDTypes) {
    if (name == entry.name) return &entry;
  }
  return nullptr;
}

bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }

}  // namespace

size_t dtype_size(DType dtype) {
  for (const auto& entry : kDTypes) {
    if (entry.dtype == dtype) return entry.size;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  for (const auto& entry : kDTypes) {
    if (entry.dtype == dtype) return entry.name;
  }
  return "?";
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string TensorView::label() const {
  return file != nullptr ? str_cat("tensor '", name, "' in '", *file, "'") : str_cat("tensor '", name, "'");
}

std::string TensorView::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path, bool use_mmap) {
  std::unique_ptr<SafetensorsFile> st(new SafetensorsFile());
  st->file_ = MappedFile::open(path, use_mmap);
  const uint8_t* bytes = st->file_->data();
  const uint64_t file_size = st->file_->size();
  if (file_size < 8) fail(GPTQ_ERR_FORMAT, "'", path, "' is not a safetensors file: only ", file_size, " bytes");

  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > kMaxHeaderBytes) {
    fail(GPTQ_ERR_FORMAT, "'", path, "': safetensors header of ", header_len, " bytes exceeds the 100 MB limit");
  }
  if (header_len > file_size - 8) {
    fail(GPTQ_ERR_FORMAT, "'", path, "': safetensors header of ", header_len, " bytes runs past the end of the ",
         file_size, "-byte file (truncated?)");
  }
  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = file_size - data_start;
  const uint8_t* data = bytes + data_start;

  // Duplicate names would make one tensor shadow another; nlohmann keeps the
  // last silently, so watch the keys as they are parsed.
  std::set<std::string> seen_keys;
  std::string duplicate;
  const Json::parser_callback_t watch_keys = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth == 1 && event == Json::parse_event_t::key && parsed.is_string()) {
      if (!seen_keys.insert(parsed.get<std::string>()).second && duplicate.empty()) {
        duplicate = parsed.get<std::string>();
      }
    }
    return true;
  };
  const Json header = parse_json(std::string_view(reinterpret_cast<const char*>(bytes + 8), header_len),
                                 "'" + path + "': malformed safetensors header", watch_keys);
  if (!header.is_object()) fail(GPTQ_ERR_FORMAT, "'", path, "': safetensors header is not a JSON object");
  if (!duplicate.empty()) fail(GPTQ_ERR_FORMAT, "'", path, "': tensor '", duplicate, "' appears twice in the header");

  struct Span {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Span> spans;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(GPTQ_ERR_FORMAT, "'", path, "': __metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) fail(GPTQ_ERR_FORMAT, "'", path, "': __metadata__ value of '", key, "' is not a string");
        st->metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    auto bad = [&](const std::string& why) { fail(GPTQ_ERR_FORMAT, "'", path, "': tensor '", name, "': ", why); };
    if (!entry.is_object()) bad("entry is not an object");
    const auto dtype_it = entry.find("dtype");
    const auto shape_it = entry.find("shape");
    const auto offsets_it = entry.find("data_offsets");
    if (dtype_it == entry.end() || !dtype_it->is_string()) bad("missing dtype");
    if (shape_it == entry.end() || !shape_it->is_array()) bad("missing shape");
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2) bad("missing data_offsets");
    const DTypeEntry* dtype = find_dtype(dtype_it->get<std::string>());
    if (dtype == nullptr) bad("unknown dtype '" + dtype_it->get<std::string>() + "'");

    TensorView view;
    view.name = name;
    view.dtype = dtype->dtype;
    uint64_t numel = 1;
    for (const auto& d : *shape_it) {
      if (!d.is_number_unsigned()) bad("shape holds a value that is not a non-negative integer");
      const uint64_t extent = d.get<uint64_t>();
      if (extent > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) || mul_overflows(numel, extent, &numel)) {
        bad("shape overflows");
      }
      view.shape.push_back(static_cast<int64_t>(extent));
    }
    uint64_t expected_bytes = 0;
    if (mul_overflows(numel, dtype->size, &expected_bytes)) bad("byte size overflows");
    const auto& offsets = *offsets_it;
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) bad("data_offsets are not non-negative integers");
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_size) {
      bad(str_cat("data_offsets [", begin, ", ", end, "] fall outside the ", data_size, "-byte data section"));
    }
    if (end - begin != expected_bytes) {
      bad(str_cat("holds ", end - begin, " bytes but shape ", view.shape_string(), " of ", dtype->name, " needs ",
                  expected_bytes));
    }
    view.data = data + begin;
    view.n_bytes = static_cast<size_t>(end - begin);
    view.file = &st->file_->path();
    spans.push_back({begin, end, st->tensors_.size()});
    st->tensors_.push_back(std::move(view));
  }

  // The tensors must tile the data section exactly: no overlap, no gap.
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t cursor = 0;
  for (const Span& s : spans) {
    const std::string& name = st->tensors_[s.index].name;
    if (s.begin < cursor) fail(GPTQ_ERR_FORMAT, "'", path, "': tensor '", name, "' overlaps the tensor before it");
    if (s.begin > cursor) {
      fail(GPTQ_ERR_FORMAT, "'", path, "': ", s.begin - cursor, " bytes before tensor '", name, "' belong to no tensor");
    }
    cursor = s.end;
  }
  if (cursor != data_size) {
    fail(GPTQ_ERR_FORMAT, "'", path, "': the last ", data_size - cursor, " bytes of the data section belong to no tensor");
  }

  for (size_t i = 0; i < st->tensors_.size(); ++i) st->index_.emplace(st->tensors_[i].name, i);
  return st;
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

std::vector<float> tensor_to_float(const TensorView& t) {
  const size_t n = static_cast<size_t>(t.numel());
  std::vector<float> out(n);
  switch (t.dtype) {
    case DType::F32:
      std::memcpy(out.data(), t.data, n * 4);
      break;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        out[i] = fp16_to_float(h);
      }
      break;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t b;
        std::memcpy(&b, t.data + 2 * i, 2);
        out[i] = bf16_to_float(b);
      }
      break;
    case DType::F64:
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, t.data + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      break;
    default:
      fail(GPTQ_ERR_FORMAT, t.label(), " has dtype ", dtype_name(t.dtype), " where a float type is needed");
  }
  return out;
}

std::vector<int64_t> tensor_to_int64(const TensorView& t) {
  const size_t n = static_cast<size_t>(t.numel());
  std::vector<int64_t> out(n);
  auto copy = [&](auto sample) {
    using T = decltype(sample);
    for (size_t i = 0; i < n; ++i) {
      T v;
      std::memcpy(&v, t.data + sizeof(T) * i, sizeof(T));
      out[i] = static_cast<int64_t>(v);
    }
  };
  switch (t.dtype) {
    case DType::I64: copy(int64_t{}); break;
    case DType::I32: copy(int32_t{}); break;
    case DType::I16: copy(int16_t{}); break;
    case DType::I8: copy(int8_t{}); break;
    case DType::U8: copy(uint8_t{}); break;
    default:
      fail(GPTQ_ERR_FORMAT, t.label(), " has dtype ", dtype_name(t.dtype), " where an integer type is needed");
  }
  return out;
}

}  // namespace gptq
