// Walks the parsed template: statements write text, expressions compute
// values. Scopes follow Jinja2: a for loop's body (each iteration) and a
// macro's body are scopes of their own, so `set` inside them is not seen
// after them; `if` is not a scope.
#include <algorithm>
#include <unordered_map>

#include "chat/jinja_builtins.h"
#include "chat/jinja_parser.h"
#include "chat/jinja_template.h"

namespace gptq::jinja {
namespace {

enum class Flow { kNormal, kBreak, kContinue };

class Renderer {
 public:
  explicit Renderer(const Dict& globals) {
    reset_work();
    scopes_.emplace_back();
    for (const auto& [name, value] : globals) scopes_.back()[name] = value;
  }

  std::string run(const Body& body) {
    std::string out;
    render(body, out);
    return out;
  }

 private:
  using Scope = std::unordered_map<std::string, Value>;

  struct DepthGuard {
    DepthGuard(Renderer& renderer, Position at) : renderer(renderer) {
      if (++renderer.depth_ > kMaxEvalDepth) {
        template_fail(at, "evaluation nested deeper than ", kMaxEvalDepth, " levels");
      }
    }
    ~DepthGuard() { --renderer.depth_; }
    Renderer& renderer;
  };
  struct ScopeGuard {
    explicit ScopeGuard(Renderer& renderer) : renderer(renderer) { renderer.scopes_.emplace_back(); }
    ~ScopeGuard() { renderer.scopes_.pop_back(); }
    Renderer& renderer;
  };

  Value lookup(const std::string& name) const {
    for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
      if (const auto it = scope->find(name); it != scope->end()) return it->second;
    }
    if (is_global_function(name)) return Callable{name};
    return Undefined{name};
  }
  void assign(const std::string& name, Value value) { scopes_.back()[name] = std::move(value); }

  void assign_targets(const std::vector<std::string>& targets, const Value& value, Position at) {
    if (targets.size() == 1) return assign(targets[0], value);
    const List items = iterate(value, at);
    if (items.size() != targets.size()) {
      template_fail(at, "cannot unpack ", items.size(), " values into ", targets.size(), " names");
    }
    for (size_t i = 0; i < targets.size(); ++i) assign(targets[i], items[i]);
  }

  void append(std::string& out, const std::string& text, Position at) {
    check_size(out.size() + text.size(), at);
    out += text;
  }

  Flow render(const Body& body, std::string& out) {
    for (const auto& node : body) {
      const Flow flow = render_node(*node, out);
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  Flow render_node(const Node& node, std::string& out) {
    switch (node.kind) {
      case Node::Kind::kText: append(out, node.text, node.position); break;
      case Node::Kind::kOutput: append(out, eval(*node.expr).str(), node.position); break;
      case Node::Kind::kIf:
        for (const auto& [condition, body] : node.branches) {
          if (eval(*condition).truthy()) return render(body, out);
        }
        return render(node.else_body, out);
      case Node::Kind::kFor: render_for(node, out); break;
      case Node::Kind::kSet: render_set(node); break;
      case Node::Kind::kSetBlock: {
        std::string captured;
        render(node.body, captured);
        assign(node.targets[0], captured);
        break;
      }
      case Node::Kind::kBreak: return Flow::kBreak;
      case Node::Kind::kContinue: return Flow::kContinue;
      case Node::Kind::kMacro:
        // Like Jinja2, the definition binds the name in the current scope.
        macros_[node.text] = &node;
        assign(node.text, Callable{node.text});
        break;
      case Node::Kind::kWrapper: return render(node.body, out);
    }
    return Flow::kNormal;
  }

  void render_set(const Node& node) {
    Value value = eval(*node.expr);
    if (node.attribute.empty()) return assign_targets(node.targets, value, node.position);
    const Value target = lookup(node.targets[0]);
    if (!target.is_namespace()) {
      template_fail(node.position, "cannot assign attribute '", node.attribute, "' on ", target.type_name(), " '",
                    node.targets[0], "': only namespace() objects take attributes");
    }
    Dict& attributes = target.namespace_attributes();
    for (auto& entry : attributes) {
      if (entry.first == node.attribute) {
        entry.second = std::move(value);
        return;
      }
    }
    attributes.emplace_back(node.attribute, std::move(value));
  }

  void count_iteration(Position at) {
    if (++iterations_ > kMaxLoopIterations) template_fail(at, "more than ", kMaxLoopIterations, " loop iterations");
  }

  void render_for(const Node& node, std::string& out) {
    List items = iterate(eval(*node.expr), node.expr->position);
    if (node.filter) {
      List kept;
      for (Value& item : items) {
        count_iteration(node.position);
        const ScopeGuard scope(*this);
        assign_targets(node.targets, item, node.position);
        if (eval(*node.filter).truthy()) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      render(node.else_body, out);
      return;
    }
    const auto n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      count_iteration(node.position);
      const ScopeGuard scope(*this);
      const auto index = static_cast<size_t>(i);
      assign("loop", Dict{{"index", i + 1},
                          {"index0", i},
                          {"revindex", n - i},
                          {"revindex0", n - i - 1},
                          {"first", i == 0},
                          {"last", i == n - 1},
                          {"length", n},
                          {"previtem", i > 0 ? items[index - 1] : Value(Undefined{"loop.previtem"})},
                          {"nextitem", i + 1 < n ? items[index + 1] : Value(Undefined{"loop.nextitem"})}});
      assign_targets(node.targets, items[index], node.position);
      if (render(node.body, out) == Flow::kBreak) break;
    }
  }

  CallArgs eval_args(const Expr& e, size_t first) {
    CallArgs args{e.position, {}, {}};
    for (size_t i = first; i < e.items.size(); ++i) args.positional.push_back(eval(*e.items[i]));
    for (const auto& [name, value] : e.kwargs) args.keyword.emplace_back(name, eval(*value));
    return args;
  }

  Value eval(const Expr& e) {
    const DepthGuard guard(*this, e.position);
    switch (e.kind) {
      case Expr::Kind::kLiteral: return e.value;
      case Expr::Kind::kName: return lookup(e.name);
      case Expr::Kind::kList: {
        List list;
        for (const auto& item : e.items) list.push_back(eval(*item));
        return list;
      }
      case Expr::Kind::kDict: {
        Dict dict;
        for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
          const Value key = eval(*e.items[i]);
          if (!key.is_string()) template_unsupported(e.items[i]->position, "a dict key of type ", key.type_name());
          Value value = eval(*e.items[i + 1]);
          auto existing =
              std::find_if(dict.begin(), dict.end(), [&](const auto& entry) { return entry.first == key.as_string(); });
          if (existing != dict.end()) {
            existing->second = std::move(value);
          } else {
            dict.emplace_back(key.as_string(), std::move(value));
          }
        }
        return dict;
      }
      case Expr::Kind::kAttribute: return attribute_of(eval(*e.items[0]), e.name, e.position);
      case Expr::Kind::kSubscript: return item_of(eval(*e.items[0]), eval(*e.items[1]), e.position);
      case Expr::Kind::kSlice: {
        auto part = [&](size_t i) { return e.items[i] ? eval(*e.items[i]) : Value(); };
        return slice_of(eval(*e.items[0]), part(1), part(2), part(3), e.position);
      }
      case Expr::Kind::kCall: return eval_call(e);
      case Expr::Kind::kFilter: return apply_filter(e.name, eval(*e.items[0]), eval_args(e, 1));
      case Expr::Kind::kTest: return apply_test(e.name, eval(*e.items[0]), eval_args(e, 1)) != e.negated;
      case Expr::Kind::kUnary: return unary_operator(e.name, eval(*e.items[0]), e.position);
      case Expr::Kind::kBinary: return eval_binary(e);
      case Expr::Kind::kConditional:
        if (eval(*e.items[0]).truthy()) return eval(*e.items[1]);
        return e.items[2] ? eval(*e.items[2]) : Value(Undefined{"else branch"});
    }
    template_fail(e.position, "unknown expression");
  }

  Value eval_binary(const Expr& e) {
    const std::string& op = e.name;
    Value left = eval(*e.items[0]);
    if (op == "and") return left.truthy() ? eval(*e.items[1]) : left;
    if (op == "or") return left.truthy() ? left : eval(*e.items[1]);
    const Value right = eval(*e.items[1]);
    if (op == "in" || op == "not in") return contains(right, left, e.position) == (op == "in");
    if (op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=") {
      return compare_values(op, left, right, e.position);
    }
    return binary_operator(op, left, right, e.position);
  }

  Value eval_call(const Expr& e) {
    const Expr& callee = *e.items[0];
    if (callee.kind == Expr::Kind::kAttribute) {
      return call_method(eval(*callee.items[0]), callee.name, eval_args(e, 1));
    }
    if (callee.kind != Expr::Kind::kName) template_unsupported(e.position, "calling the result of an expression");
    const Value function = lookup(callee.name);
    if (function.is_undefined()) {
      template_fail(e.position, "'", callee.name, "' is undefined (not a function known to libgptq's templates)");
    }
    if (!function.is_callable()) {
      template_fail(e.position, "'", callee.name, "' (a ", function.type_name(), ") is not callable");
    }
    if (const auto macro = macros_.find(function.callable_name()); macro != macros_.end()) {
      return call_macro(*macro->second, e);
    }
    return call_global(function.callable_name(), eval_args(e, 1));
  }

  Value call_macro(const Node& macro, const Expr& call) {
    if (macro_depth_ >= kMaxMacroDepth)
      template_fail(call.position, "macro calls nested deeper than ", kMaxMacroDepth, " levels");
    CallArgs args = eval_args(call, 1);
    if (args.positional.size() > macro.params.size()) {
      template_fail(call.position, "macro '", macro.text, "' takes ", macro.params.size(), " arguments (",
                    args.positional.size(), " given)");
    }
    for (const auto& [name, value] : args.keyword) {
      if (std::none_of(macro.params.begin(), macro.params.end(), [&](const auto& p) { return p.first == name; })) {
        template_fail(call.position, "macro '", macro.text, "' has no parameter '", name, "'");
      }
    }
    std::vector<Value> bound;
    for (size_t i = 0; i < macro.params.size(); ++i) {
      const auto& [name, default_value] = macro.params[i];
      const Value* given = args.get(i, name.c_str());
      bound.push_back(given != nullptr ? *given : default_value ? eval(*default_value) : Value(Undefined{name}));
    }
    const ScopeGuard scope(*this);
    for (size_t i = 0; i < macro.params.size(); ++i) assign(macro.params[i].first, bound[i]);
    // An error ends the whole render, so the depth needs no unwinding.
    ++macro_depth_;
    std::string out;
    render(macro.body, out);
    --macro_depth_;
    return out;
  }

  std::vector<Scope> scopes_;
  std::unordered_map<std::string, const Node*> macros_;
  int depth_ = 0;
  int macro_depth_ = 0;
  int64_t iterations_ = 0;
};

}  // namespace

Template::Template(std::string_view source) : body_(parse_template(source)) {}

std::string Template::render(const Dict& variables) const { return Renderer(variables).run(body_); }

}  // namespace gptq::jinja
