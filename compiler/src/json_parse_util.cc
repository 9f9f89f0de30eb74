// Small helpers shared by the JSON reader's files: building AST nodes and
// reading typed properties with clear errors.
#include <fmt/format.h>

#include "json_internal.h"

namespace nfx::jsonio {

ExprPtr E(ExprKind k, ParseCtx& ctx, std::string text) { return make_expr(k, ctx.loc, std::move(text)); }

StmtPtr S(StmtKind k, ParseCtx& ctx, std::string name) {
  auto s = std::make_shared<Stmt>();
  s->kind = k;
  s->loc = ctx.loc;
  s->name = std::move(name);
  return s;
}

ExprPtr sel(SelectorKind sk, ParseCtx& ctx, std::string fam, std::vector<std::string> path) {
  auto e = E(ExprKind::Selector, ctx, std::move(fam));
  e->selector = sk;
  e->path = std::move(path);
  return e;
}

// The single "key": value pair of a statement/expression object.
bool single_key(const json& j, std::string& key, const json*& val, ParseCtx& ctx, const char* what) {
  if (!j.is_object() || j.size() != 1) {
    ctx.error(fmt::format("Malformed {} (expected an object with one property): '{}'", what, json_brief(j)));
    return false;
  }
  key = j.begin().key();
  val = &j.begin().value();
  return true;
}

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

bool get_string(const json& obj, const char* key, std::string& out, ParseCtx& ctx, bool required) {
  const json* v = member(obj, key);
  if (!v) {
    if (required) ctx.error(fmt::format("Missing property '{}' in '{}'", key, json_brief(obj)));
    return false;
  }
  if (!v->is_string()) {
    ctx.error(fmt::format("Property '{}' must be a string, got '{}'", key, json_brief(*v)));
    return false;
  }
  out = v->get<std::string>();
  return true;
}

bool get_int(const json& obj, const char* key, int64_t& out, ParseCtx& ctx, bool required) {
  const json* v = member(obj, key);
  if (!v) {
    if (required) ctx.error(fmt::format("Missing property '{}' in '{}'", key, json_brief(obj)));
    return false;
  }
  if (!v->is_number_integer()) {
    ctx.error(fmt::format("Property '{}' must be an integer, got '{}'", key, json_brief(*v)));
    return false;
  }
  out = v->get<int64_t>();
  return true;
}

std::string int_text(const json& v) {
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  return json_brief(v);
}

// Number text for an option, or an error.
bool opt_int(const json& obj, const char* key, std::string& out, ParseCtx& ctx, bool required) {
  int64_t v = 0;
  if (!get_int(obj, key, v, ctx, required)) return false;
  out = std::to_string(v);
  return true;
}

bool is_true(const json* v) { return v && v->is_boolean() && v->get<bool>(); }

std::vector<std::string> string_list(const json* v, ParseCtx& ctx, const char* what) {
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    for (auto& x : *v) {
      if (!x.is_string()) {
        ctx.error(fmt::format("Invalid {} '{}': expected strings", what, json_brief(x)));
        return {};
      }
      out.push_back(x.get<std::string>());
    }
  } else {
    ctx.error(fmt::format("Invalid {} '{}'", what, json_brief(*v)));
  }
  return out;
}

ExprPtr parse_verdict(const std::string& key, const json& val, ParseCtx& ctx) {
  auto v = E(ExprKind::Verdict, ctx, key);
  if (key == "jump" || key == "goto") {
    std::string target;
    if (!get_string(val, "target", target, ctx)) return nullptr;
    v->kids = {E(ExprKind::Symbol, ctx, target)};
  } else if (!val.is_null() && !(val.is_object() && val.empty())) {
    ctx.error(fmt::format("Verdict '{}' takes no value, got '{}'", key, json_brief(val)));
    return nullptr;
  }
  return v;
}

bool is_verdict_key(const std::string& k) {
  return k == "accept" || k == "drop" || k == "continue" || k == "return" || k == "jump" || k == "goto";
}

}  // namespace nfx::jsonio
