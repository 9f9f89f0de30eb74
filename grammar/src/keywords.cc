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

#include <arpa/inet.h>

#include <cctype>

namespace nfx {

bool is_ipv6(const std::string& text) {
  in6_addr a{};
  return inet_pton(AF_INET6, text.c_str(), &a) == 1;
}

namespace {
// groups of 1..maxdigits hex digits separated by ':', exactly `groups` of them
bool hex_groups(const std::string& s, int groups, int maxdigits) {
  int n = 0, digits = 0;
  for (char c : s) {
    if (c == ':') {
      if (digits == 0) return false;
      ++n;
      digits = 0;
    } else if (std::isxdigit(static_cast<unsigned char>(c))) {
      if (++digits > maxdigits) return false;
    } else {
      return false;
    }
  }
  return digits > 0 && n + 1 == groups;
}
}  // namespace

int address_prefix(const char* text, int len) {
  for (int n = len; n > 0; --n) {
    // an address ends where a word would not go on
    if (n < len && std::isalnum(static_cast<unsigned char>(text[n]))) continue;
    std::string s(text, n);
    if (is_ipv6(s) || hex_groups(s, 6, 2) || hex_groups(s, 2, 4)) return n;
  }
  return 0;
}

}  // namespace nfx
