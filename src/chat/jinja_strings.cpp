// Python's str semantics on UTF-8: characters are code points, case maps
// and whitespace are Unicode's.
#include <utf8proc.h>

#include <algorithm>

#include "chat/jinja_builtins.h"
#include "tokenizer/utf8.h"

namespace gptq::jinja {
namespace {

template <typename Map>
std::string map_code_points(const std::string& text, Map map) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) utf8::append_code_point(out, map(utf8::next_code_point(text, pos)));
  return out;
}

}  // namespace

std::vector<std::string> characters(const std::string& text) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < text.size();) {
    const size_t start = pos;
    utf8::next_code_point(text, pos);
    out.push_back(text.substr(start, pos - start));
  }
  return out;
}

std::string upper(const std::string& text) {
  return map_code_points(
      text, [](char32_t c) { return static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c))); });
}

std::string titlecase(const std::string& text) {
  return map_code_points(
      text, [](char32_t c) { return static_cast<char32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(c))); });
}

std::string lower(const std::string& text) {
  return map_code_points(
      text, [](char32_t c) { return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))); });
}

std::string strip(const std::string& text, const Value* chars, bool left, bool right) {
  const bool by_whitespace = chars == nullptr || chars->is_none() || chars->is_undefined();
  const std::vector<std::string> set = by_whitespace ? std::vector<std::string>{} : characters(chars->str());
  auto strippable = [&](const std::string& c) {
    if (by_whitespace) {
      size_t pos = 0;
      return utf8::is_whitespace(utf8::next_code_point(c, pos));
    }
    return std::find(set.begin(), set.end(), c) != set.end();
  };
  const std::vector<std::string> chars_of_text = characters(text);
  size_t begin = 0, end = chars_of_text.size();
  if (left) {
    while (begin < end && strippable(chars_of_text[begin])) ++begin;
  }
  if (right) {
    while (end > begin && strippable(chars_of_text[end - 1])) --end;
  }
  std::string out;
  for (size_t i = begin; i < end; ++i) out += chars_of_text[i];
  return out;
}

namespace {
thread_local uint64_t t_work_units = 0;
}

void reset_work() { t_work_units = 0; }

void charge_work(size_t units, Position at) {
  t_work_units += units;
  if (t_work_units > kMaxWorkUnits) {
    template_fail(at, "the template copies more than ", kMaxWorkUnits >> 20,
                  " Mi bytes or items (a loop building ever longer strings or lists?)");
  }
}

void check_size(size_t bytes, Position at) {
  if (bytes > kMaxOutputBytes) template_fail(at, "the rendered text would exceed ", kMaxOutputBytes >> 20, " MiB");
}

}  // namespace gptq::jinja
