// Headers inside headers: IPv6 extension headers, TCP options, IPv4 options
// and SCTP chunks, each a named kind with fields at bit offsets from the start
// of that option/header, as nft's exthdr, tcpopt, ipopt and sctp_chunk
// templates define them.
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "selectors.h"

namespace nfx {
namespace {

// IPv6 extension headers; type is the nexthdr value that introduces them.
std::vector<OptionDesc> build_exthdrs() {
  return {
      {"hbh", 0,
       {
           {"nexthdr", 0, 8, "inet_proto"},
           {"hdrlength", 8, 8, "integer"},
       }},
      {"rt", 43,
       {
           {"nexthdr", 0, 8, "inet_proto"},
           {"hdrlength", 8, 8, "integer"},
           {"type", 16, 8, "integer"},
           {"seg-left", 24, 8, "integer"},
       }},
      // Type 0 routing header: 32 reserved bits, then the addresses. nft
      // defines the first two addresses.
      {"rt0", 43,
       {
           {"reserved", 32, 8, "integer"},
           {"addr[1]", 64, 128, "ipv6_addr"},
           {"addr[2]", 192, 128, "ipv6_addr"},
       }},
      // Type 2 routing header (RFC 6275): one home address after 32 reserved
      // bits. nft's own rt2 template is empty; this is where the field lies.
      {"rt2", 43,
       {
           {"addr", 64, 128, "ipv6_addr"},
       }},
      // Segment routing header (routing type 4).
      {"srh", 43,
       {
           {"last-entry", 32, 8, "integer"},
           {"flags", 40, 8, "integer"},
           {"tag", 48, 16, "integer"},
           {"sid[1]", 64, 128, "ipv6_addr"},
           {"sid[2]", 192, 128, "ipv6_addr"},
       }},
      {"frag", 44,
       {
           {"nexthdr", 0, 8, "inet_proto"},
           {"reserved", 8, 8, "integer"},
           {"frag-off", 16, 13, "integer"},
           {"reserved2", 29, 2, "integer"},
           {"more-fragments", 31, 1, "integer"},
           {"id", 32, 32, "integer"},
       }},
      {"dst", 60,
       {
           {"nexthdr", 0, 8, "inet_proto"},
           {"hdrlength", 8, 8, "integer"},
       }},
      {"mh", 135,
       {
           {"nexthdr", 0, 8, "inet_proto"},
           {"hdrlength", 8, 8, "integer"},
           {"type", 16, 8, "mh_type"},
           {"reserved", 24, 8, "integer"},
           {"checksum", 32, 16, "integer"},
       }},
  };
}

// TCP options by kind. sack1..sack3 are the 2nd..4th SACK block of the same
// option (kind 5); nft prints the block number from the field offset.
std::vector<OptionDesc> build_tcpopts() {
  const FieldDesc kind = {"kind", 0, 8, "integer"};
  const FieldDesc length = {"length", 8, 8, "integer"};
  auto sack = [&](const char* name, unsigned block) -> OptionDesc {
    const unsigned left = 16 + block * 64;
    return {name, 5, {kind, length, {"left", left, 32, "integer"}, {"right", left + 32, 32, "integer"}}};
  };
  return {
      {"eol", 0, {kind}},
      {"nop", 1, {kind}},
      {"maxseg", 2, {kind, length, {"size", 16, 16, "integer"}}},
      {"window", 3, {kind, length, {"count", 16, 8, "integer"}}},
      {"sack-perm", 4, {kind, length}},
      sack("sack", 0),
      sack("sack1", 1),
      sack("sack2", 2),
      sack("sack3", 3),
      {"timestamp", 8,
       {kind, length, {"tsval", 16, 32, "integer"}, {"tsecr", 48, 32, "integer"}}},
      {"md5sig", 19, {kind, length}},
      {"mptcp", 30, {kind, length, {"subtype", 16, 4, "mptcpopt_subtype"}}},
      {"fastopen", 34, {kind, length}},
  };
}

// IPv4 options by type (copied flag and class included).
std::vector<OptionDesc> build_ipopts() {
  const FieldDesc type = {"type", 0, 8, "integer"};
  const FieldDesc length = {"length", 8, 8, "integer"};
  const FieldDesc ptr = {"ptr", 16, 8, "integer"};
  const FieldDesc addr = {"addr", 24, 32, "integer"};  // first address of the route
  return {
      {"lsrr", 131, {type, length, ptr, addr}},
      {"rr", 7, {type, length, ptr, addr}},
      {"ssrr", 137, {type, length, ptr, addr}},
      {"ra", 148, {type, length, {"value", 16, 16, "integer"}}},
  };
}

// SCTP chunks by chunk type; every chunk starts with type, flags, length.
std::vector<OptionDesc> build_sctp_chunks() {
  auto chunk = [](const char* name, unsigned type, std::vector<FieldDesc> extra) -> OptionDesc {
    std::vector<FieldDesc> f = {
        {"type", 0, 8, "integer"},
        {"flags", 8, 8, "integer"},
        {"length", 16, 16, "integer"},
    };
    f.insert(f.end(), extra.begin(), extra.end());
    return {name, type, std::move(f)};
  };
  const std::vector<FieldDesc> init = {
      {"init-tag", 32, 32, "integer"},
      {"a-rwnd", 64, 32, "integer"},
      {"num-outbound-streams", 96, 16, "integer"},
      {"num-inbound-streams", 112, 16, "integer"},
      {"initial-tsn", 128, 32, "integer"},
  };
  return {
      chunk("data", 0,
            {
                {"tsn", 32, 32, "integer"},
                {"stream", 64, 16, "integer"},
                {"ssn", 80, 16, "integer"},
                {"ppid", 96, 32, "integer"},
            }),
      chunk("init", 1, init),
      chunk("init-ack", 2, init),
      chunk("sack", 3,
            {
                {"cum-tsn-ack", 32, 32, "integer"},
                {"a-rwnd", 64, 32, "integer"},
                {"num-gap-ack-blocks", 96, 16, "integer"},
                {"num-dup-tsns", 112, 16, "integer"},
            }),
      chunk("heartbeat", 4, {}),
      chunk("heartbeat-ack", 5, {}),
      chunk("abort", 6, {}),
      chunk("shutdown", 7, {{"cum-tsn-ack", 32, 32, "integer"}}),
      chunk("shutdown-ack", 8, {}),
      chunk("error", 9, {}),
      chunk("cookie-echo", 10, {}),
      chunk("cookie-ack", 11, {}),
      chunk("ecne", 12, {{"lowest-tsn", 32, 32, "integer"}}),
      chunk("cwr", 13, {{"lowest-tsn", 32, 32, "integer"}}),
      chunk("shutdown-complete", 14, {}),
      chunk("asconf-ack", 128, {{"seqno", 32, 32, "integer"}}),
      chunk("forward-tsn", 192, {{"new-cum-tsn", 32, 32, "integer"}}),
      chunk("asconf", 193, {{"seqno", 32, 32, "integer"}}),
  };
}

const std::vector<OptionDesc>& options(OptionFamily fam) {
  static const std::vector<OptionDesc> exthdr = build_exthdrs();
  static const std::vector<OptionDesc> tcp = build_tcpopts();
  static const std::vector<OptionDesc> ip = build_ipopts();
  static const std::vector<OptionDesc> sctp = build_sctp_chunks();
  switch (fam) {
    case OptionFamily::Exthdr: return exthdr;
    case OptionFamily::TcpOption: return tcp;
    case OptionFamily::IpOption: return ip;
    case OptionFamily::SctpChunk: return sctp;
  }
  return exthdr;
}

// A TCP option kind with no name: nft only tests its presence (or reads it
// raw with "tcp option @kind,offset,length").
const OptionDesc& raw_tcp_option(unsigned kind) {
  struct Raw {
    std::array<std::string, 256> names;
    std::array<OptionDesc, 256> descs;
    Raw() {
      for (unsigned i = 0; i < 256; i++) {
        names[i] = std::to_string(i);
        descs[i] = OptionDesc{names[i].c_str(), i, {{"kind", 0, 8, "integer"}}};
      }
    }
  };
  static const Raw raw;
  return raw.descs[kind & 0xff];
}

struct OptionAlias {
  OptionFamily fam;
  const char* alias;
  const char* name;
};

constexpr OptionAlias kOptionAliases[] = {
    {OptionFamily::TcpOption, "sack-permitted", "sack-perm"},
    {OptionFamily::TcpOption, "sack0", "sack"},
};

bool parse_kind(const std::string& s, unsigned& out) {
  if (s.empty() || s.size() > 3) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > 255) return false;
  out = v;
  return true;
}

}  // namespace

const std::vector<OptionDesc>& all_options(OptionFamily fam) { return options(fam); }

const OptionDesc* find_option(OptionFamily fam, const std::string& name) {
  const std::vector<OptionDesc>& v = options(fam);
  for (const OptionDesc& o : v)
    if (name == o.name) return &o;
  for (const OptionAlias& a : kOptionAliases) {
    if (a.fam != fam || name != a.alias) continue;
    for (const OptionDesc& o : v)
      if (std::strcmp(o.name, a.name) == 0) return &o;
  }
  unsigned kind = 0;
  if (fam == OptionFamily::TcpOption && parse_kind(name, kind)) {
    if (const OptionDesc* named = find_option_by_type(fam, kind)) return named;
    return &raw_tcp_option(kind);
  }
  return nullptr;
}

const OptionDesc* find_option_by_type(OptionFamily fam, unsigned type) {
  // First match: rt for 43, sack (not sack1..3) for 5.
  for (const OptionDesc& o : options(fam))
    if (o.type == type) return &o;
  return nullptr;
}

}  // namespace nfx
