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
// Reports the first property of `obj` not in `allowed` ("Unknown property
// 'x' in chain"); false then.
bool only_keys(const json& obj, std::initializer_list<const char*> allowed, const char* what, ParseCtx& ctx);

}  // namespace nfx::jsonio
