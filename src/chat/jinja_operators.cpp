// Arithmetic and concatenation with Python's semantics: int stays int, /
// is true division, // and % floor, str and list concatenate and repeat.
#include <cmath>

#include "chat/jinja_builtins.h"

namespace gptq::jinja {
namespace {

bool integral(const Value& v) { return v.is_int() || v.is_bool(); }
int64_t integer(const Value& v) { return v.is_int() ? v.as_int() : int64_t{v.as_bool()}; }
bool numeric(const Value& v) { return v.is_number() || v.is_bool(); }

[[noreturn]] void type_error(const std::string& op, const Value& a, const Value& b, Position at) {
  for (const Value* v : {&a, &b}) {
    if (v->is_undefined()) template_fail(at, "'", v->undefined_name(), "' is undefined");
  }
  template_fail(at, "unsupported operand types for ", op, ": '", a.type_name(), "' and '", b.type_name(), "'");
}

[[noreturn]] void overflow(const std::string& op, Position at) {
  template_unsupported(at, "integer arithmetic beyond 64 bits ('", op, "')");
}

Value repeat(const Value& sequence, int64_t times, Position at) {
  if (times <= 0) return sequence.is_string() ? Value("") : Value(List{});
  if (sequence.is_string()) {
    check_size(sequence.as_string().size() * static_cast<size_t>(times), at);
    charge_work(sequence.as_string().size() * static_cast<size_t>(times), at);
    std::string out;
    for (int64_t i = 0; i < times; ++i) out += sequence.as_string();
    return out;
  }
  check_size(sequence.as_list().size() * static_cast<size_t>(times) * sizeof(Value), at);
  charge_work(sequence.as_list().size() * static_cast<size_t>(times), at);
  List out;
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), sequence.as_list().begin(), sequence.as_list().end());
  return out;
}

Value integer_operator(const std::string& op, int64_t x, int64_t y, Position at) {
  int64_t r = 0;
  if (op == "+") {
    if (__builtin_add_overflow(x, y, &r)) overflow(op, at);
  } else if (op == "-") {
    if (__builtin_sub_overflow(x, y, &r)) overflow(op, at);
  } else if (op == "*") {
    if (__builtin_mul_overflow(x, y, &r)) overflow(op, at);
  } else if (op == "//" || op == "%") {
    if (y == 0) template_fail(at, "integer division or modulo by zero");
    if (x == INT64_MIN && y == -1) overflow(op, at);
    int64_t q = x / y, m = x % y;
    if (m != 0 && ((m < 0) != (y < 0))) {
      --q;
      m += y;
    }
    r = op == "//" ? q : m;
  } else if (op == "**") {
    if (y < 0) return std::pow(static_cast<double>(x), static_cast<double>(y));
    r = 1;
    for (int64_t i = 0; i < y; ++i) {
      if (__builtin_mul_overflow(r, x, &r)) overflow(op, at);
      if (r == 0 || r == 1) break;
    }
  } else {
    template_fail(at, "unknown operator '", op, "'");
  }
  return r;
}

Value float_operator(const std::string& op, double x, double y, Position at) {
  if (op == "+") return x + y;
  if (op == "-") return x - y;
  if (op == "*") return x * y;
  if (op == "/") {
    if (y == 0) template_fail(at, "division by zero");
    return x / y;
  }
  if (op == "//" || op == "%") {
    if (y == 0) template_fail(at, "float floor division or modulo by zero");
    const double m = std::fmod(x, y);
    const double mod = m != 0 && ((m < 0) != (y < 0)) ? m + y : m;
    return op == "%" ? mod : std::floor(x / y);
  }
  if (op == "**") return std::pow(x, y);
  template_fail(at, "unknown operator '", op, "'");
}

}  // namespace

Value binary_operator(const std::string& op, const Value& a, const Value& b, Position at) {
  if (op == "~") {
    std::string out = a.str() + b.str();
    check_size(out.size(), at);
    charge_work(out.size(), at);
    return out;
  }
  if (numeric(a) && numeric(b)) {
    if (op == "/") return float_operator(op, a.as_double(), b.as_double(), at);
    if (integral(a) && integral(b)) return integer_operator(op, integer(a), integer(b), at);
    return float_operator(op, a.as_double(), b.as_double(), at);
  }
  if (op == "+" && a.is_string() && b.is_string()) {
    check_size(a.as_string().size() + b.as_string().size(), at);
    charge_work(a.as_string().size() + b.as_string().size(), at);
    return a.as_string() + b.as_string();
  }
  if (op == "+" && a.is_list() && b.is_list()) {
    charge_work(a.as_list().size() + b.as_list().size(), at);
    List out = a.as_list();
    out.insert(out.end(), b.as_list().begin(), b.as_list().end());
    return out;
  }
  if (op == "*" && (a.is_string() || a.is_list()) && integral(b)) return repeat(a, integer(b), at);
  if (op == "*" && integral(a) && (b.is_string() || b.is_list())) return repeat(b, integer(a), at);
  if (op == "%" && a.is_string()) template_unsupported(at, "printf-style string formatting with '%'");
  type_error(op, a, b, at);
}

Value unary_operator(const std::string& op, const Value& v, Position at) {
  if (op == "not") return !v.truthy();
  if (v.is_undefined()) template_fail(at, "'", v.undefined_name(), "' is undefined");
  if (integral(v)) {
    if (op == "-" && integer(v) == INT64_MIN) overflow(op, at);
    return op == "-" ? -integer(v) : integer(v);
  }
  if (v.is_float()) return op == "-" ? -v.as_double() : v.as_double();
  template_fail(at, "bad operand type for unary ", op, ": '", v.type_name(), "'");
}

}  // namespace gptq::jinja
