// Maps words to the grammar's keyword tokens.
#pragma once

#include "parser.hh"

namespace nfx {
// The keyword token for `word`, or a STRING token carrying it.
Parser::symbol_type keyword_or_string(const std::string& word, const SourceLoc& loc);
}  // namespace nfx

namespace nfx {
// Length of the longest prefix of text[0..len) that is an IPv6 address, a MAC
// address or a tc classid (major:minor), or 0.
int address_prefix(const char* text, int len);
bool is_ipv6(const std::string& text);
}  // namespace nfx
