// Printing of expressions and statements as `nft list` shows them.
#pragma once

#include <nfx/compiler.h>

#include <string>
#include <vector>

namespace nfx {

std::string print_expr(const Expr& e, const PrintOptions& opts);
std::string print_stmt(const Stmt& s, const PrintOptions& opts);
std::string print_rule(const Rule& r, const PrintOptions& opts);
// Named set elements, wrapped as nft wraps them (by key datatype).
std::string print_set_elements(const SetDecl& set, const PrintOptions& opts);

// Shared by the text and JSON printers.
std::string join(const std::vector<std::string>& parts, const char* sep);
const char* binop_text(BinOp op);  // "&", "|", "^", "<<", ">>"
// Flags in nft's print order (bit order), each once; unknown ones last.
std::vector<std::string> in_order(const std::vector<std::string>& flags, std::initializer_list<const char*> order);

}  // namespace nfx
