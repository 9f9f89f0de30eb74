// Shared pieces of the libnftables JSON printer (json_print*.cc) and parser
// (json_parse*.cc). Private to the compiler library.
#pragma once

#include <nfx/compiler.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace nfx::jsonio {

// nft keeps object keys in insertion order; so do we.
using json = nlohmann::ordered_json;

// ---------------------------------------------------------------- printing

struct PrintCtx {
  const PrintOptions& opts;
  std::string family;    // table family
  bool integer = false;  // constants print as plain integers (after a shift)
  bool range = false;    // inside a range: protocols print as numbers
};

json expr_json(const Expr& e, PrintCtx& ctx);
json stmt_json(const Stmt& s, PrintCtx& ctx);
// A rule's "expr" array (statements see their rule for context).
json rule_stmts_json(const Rule& r, PrintCtx& ctx);
// A typed constant (ExprKind::Value) as nft's datatype_json prints it.
json value_json(const Expr& v, PrintCtx& ctx);
// Set element (named set "elem" entries and anonymous set members).
json elem_json(const Expr& e, PrintCtx& ctx);
// "type"/"map" of a set declaration: "name" or ["a", "b"].
json type_names_json(const std::vector<std::string>& names);

// Set element statements: the grammar's text form <-> statements.
StmtPtr elem_stmt_from_text(const std::string& text);
std::optional<std::string> elem_stmt_to_text(const Stmt& s);

// nft time strings ("1m30s", "500ms", "10") in milliseconds.
std::optional<uint64_t> time_ms(const std::string& text);
// Milliseconds as nft prints a time ("1m30s").
std::string time_text(uint64_t ms);
// "10 mbytes" / "1024" -> bytes.
std::optional<uint64_t> bytes_with_unit(const std::string& number, const std::string& unit);

// ---------------------------------------------------------------- parsing

// Errors found while reading JSON. Never throws out of the public entry point.
struct ParseCtx {
  Diagnostics& diags;
  SourceLoc loc;          // file-level location (line 1) for messages
  std::string family;     // family of the command being read
  std::string where;      // "nftables[3]": the command being read, for messages
  int depth = 0;          // nesting of expressions, bounded against hostile input
  bool ok = true;
  void error(const std::string& msg);
};

// Counts nesting while reading; past the limit the input is refused.
struct DepthGuard {
  ParseCtx& ctx;
  explicit DepthGuard(ParseCtx& c) : ctx(c) { ++ctx.depth; }
  ~DepthGuard() { --ctx.depth; }
  bool too_deep() {
    if (ctx.depth <= 200) return false;
    ctx.error("Expression nesting too deep");
    return true;
  }
};

ExprPtr parse_expr(const json& j, ParseCtx& ctx);
// Right-hand side / set member: numbers, strings, prefixes, ranges, elems...
ExprPtr parse_value_expr(const json& j, ParseCtx& ctx);
ExprPtr parse_elem(const json& j, ParseCtx& ctx, bool is_map);
StmtPtr parse_stmt(const json& j, ParseCtx& ctx);
// A selector expression (payload, meta, ct...) or nullptr if `j` is not one.
ExprPtr parse_selector(const json& j, ParseCtx& ctx);

std::string json_brief(const json& j);  // short rendering for messages

// AST nodes located at the document (JSON keeps no positions per node).
ExprPtr E(ExprKind k, ParseCtx& ctx, std::string text = {});
StmtPtr S(StmtKind k, ParseCtx& ctx, std::string name = {});
ExprPtr sel(SelectorKind sk, ParseCtx& ctx, std::string fam, std::vector<std::string> path);

// Typed property access; a wrong type is an error, a missing optional one is not.
const json* member(const json& obj, const char* key);
bool single_key(const json& j, std::string& key, const json*& val, ParseCtx& ctx, const char* what);
bool get_string(const json& obj, const char* key, std::string& out, ParseCtx& ctx, bool required = true);
bool get_int(const json& obj, const char* key, int64_t& out, ParseCtx& ctx, bool required = true);
bool opt_int(const json& obj, const char* key, std::string& out, ParseCtx& ctx, bool required = true);
std::string int_text(const json& v);
bool is_true(const json* v);
std::vector<std::string> string_list(const json* v, ParseCtx& ctx, const char* what);

// Verdicts ({"accept": null}, {"jump": {"target": "c"}}) and the structural
// expressions (concat, set, map, prefix, range, elem, binops); `handled`
// is false when `key` is none of them.
bool is_verdict_key(const std::string& k);
ExprPtr parse_verdict(const std::string& key, const json& val, ParseCtx& ctx);
ExprPtr parse_common(const std::string& key, const json& val, ParseCtx& ctx, bool lhs, bool& handled);
// Reports the first property of `obj` not in `allowed` ("Unknown property
// 'x' in chain"); false then.
bool only_keys(const json& obj, std::initializer_list<const char*> allowed, const char* what, ParseCtx& ctx);

}  // namespace nfx::jsonio
