#include <nfx/grammar.h>

namespace nfx {

ExprPtr make_expr(ExprKind kind, const SourceLoc& loc, std::string text) {
  auto e = std::make_shared<Expr>();
  e->kind = kind;
  e->loc = loc;
  e->text = std::move(text);
  return e;
}

}  // namespace nfx
