#include "keywords.h"

#include <string_view>
#include <unordered_map>

namespace nfx {
namespace {
using Maker = Parser::symbol_type (*)(const SourceLoc&);

const std::unordered_map<std::string_view, Maker>& keyword_table() {
  static const std::unordered_map<std::string_view, Maker> table = {
#define KW(word, TOKEN) {word, [](const SourceLoc& l) { return Parser::make_##TOKEN(l); }},
#include "keyword_table.inc"
#undef KW
  };
  return table;
}
}  // namespace

Parser::symbol_type keyword_or_string(const std::string& word, const SourceLoc& loc) {
  const auto& table = keyword_table();
  if (auto it = table.find(word); it != table.end()) return it->second(loc);
  return Parser::make_STRING(word, loc);
}

}  // namespace nfx
