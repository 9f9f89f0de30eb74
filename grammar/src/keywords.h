// Maps words to the grammar's keyword tokens.
#pragma once

#include "parser.hh"

namespace nfx {
// The keyword token for `word`, or a STRING token carrying it.
Parser::symbol_type keyword_or_string(const std::string& word, const SourceLoc& loc);
}  // namespace nfx
