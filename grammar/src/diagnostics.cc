// Error reporting in nft's format: location, message, source line, markers.
#include <nfx/grammar.h>

#include <fmt/format.h>

#include <sstream>

namespace nfx {

void Diagnostics::error(const SourceLoc& loc, std::string message) {
  diags_.push_back({loc, std::move(message), false});
  ++errors_;
}

void Diagnostics::warning(const SourceLoc& loc, std::string message) {
  diags_.push_back({loc, std::move(message), true});
}

void Diagnostics::add_source(std::shared_ptr<const SourceBuffer> src) { sources_.push_back(std::move(src)); }

namespace {
std::string line_of(const std::string& text, int line) {
  std::istringstream in(text);
  std::string l;
  for (int i = 1; std::getline(in, l); ++i)
    if (i == line) return l;
  return {};
}
}  // namespace

// nft prints "file:L:C1-C2: Error: msg", the source line, then '^' under
// every column of the span.
std::string Diagnostics::format(const Diagnostic& d) const {
  const char* kind = d.warning ? "Warning" : "Error";
  if (!d.loc.valid() || !d.loc.file) return fmt::format("Error: {}\n", d.message);
  std::string out;
  int last = d.loc.last_line == d.loc.first_line ? d.loc.last_col : d.loc.first_col;
  if (last < d.loc.first_col) last = d.loc.first_col;
  out += fmt::format("{}:{}:{}-{}: {}: {}\n", *d.loc.file, d.loc.first_line, d.loc.first_col, last, kind,
                     d.message);
  const SourceBuffer* src = nullptr;
  for (auto& s : sources_)
    if (s->name == *d.loc.file) src = s.get();
  if (!src) return out;
  std::string text = line_of(src->text, d.loc.first_line);
  out += text + "\n";
  std::string marks;
  for (int c = 1; c < d.loc.first_col; ++c)
    marks += (c - 1 < (int)text.size() && text[c - 1] == '\t') ? '\t' : ' ';
  for (int c = d.loc.first_col; c <= last; ++c) marks += '^';
  out += marks + "\n";
  return out;
}

std::string Diagnostics::format() const {
  std::string out;
  for (auto& d : diags_) out += format(d);
  return out;
}

}  // namespace nfx
