// Addresses and protocol-number datatypes: ll_addr, ether_addr, ipv4_addr,
// ipv6_addr, ether_type, arp_op, inet_proto, inet_service, tcp_flag,
// dccp_pkttype, mh_type, dscp, ecn (nft's datatype.c, proto.c, exthdr's mh.c).
#include "types.h"
#include "types_internal.h"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace nfx {

using namespace types_detail;

namespace {

// Debian's netbase /etc/protocols (netbase 6.4): name, number, aliases.
// getprotobynumber returns the first entry, getprotobyname matches names
// and aliases.
struct ProtoEntry {
  const char* name;
  int number;
  const char* aliases;  // space separated
};
const ProtoEntry kProtocols[] = {
    {"ip", 0, "IP"},
    {"hopopt", 0, "HOPOPT"},
    {"icmp", 1, "ICMP"},
    {"igmp", 2, "IGMP"},
    {"ggp", 3, "GGP"},
    {"ipencap", 4, "IP-ENCAP"},
    {"st", 5, "ST"},
    {"tcp", 6, "TCP"},
    {"egp", 8, "EGP"},
    {"igp", 9, "IGP"},
    {"pup", 12, "PUP"},
    {"udp", 17, "UDP"},
    {"hmp", 20, "HMP"},
    {"xns-idp", 22, "XNS-IDP"},
    {"rdp", 27, "RDP"},
    {"iso-tp4", 29, "ISO-TP4"},
    {"dccp", 33, "DCCP"},
    {"xtp", 36, "XTP"},
    {"ddp", 37, "DDP"},
    {"idpr-cmtp", 38, "IDPR-CMTP"},
    {"ipv6", 41, "IPv6"},
    {"ipv6-route", 43, "IPv6-Route"},
    {"ipv6-frag", 44, "IPv6-Frag"},
    {"idrp", 45, "IDRP"},
    {"rsvp", 46, "RSVP"},
    {"gre", 47, "GRE"},
    {"esp", 50, "IPSEC-ESP"},
    {"ah", 51, "IPSEC-AH"},
    {"skip", 57, "SKIP"},
    {"ipv6-icmp", 58, "IPv6-ICMP"},
    {"ipv6-nonxt", 59, "IPv6-NoNxt"},
    {"ipv6-opts", 60, "IPv6-Opts"},
    {"rspf", 73, "RSPF CPHB"},
    {"vmtp", 81, "VMTP"},
    {"eigrp", 88, "EIGRP"},
    {"ospf", 89, "OSPFIGP"},
    {"ax.25", 93, "AX.25"},
    {"ipip", 94, "IPIP"},
    {"etherip", 97, "ETHERIP"},
    {"encap", 98, "ENCAP"},
    {"pim", 103, "PIM"},
    {"ipcomp", 108, "IPCOMP"},
    {"vrrp", 112, "VRRP"},
    {"l2tp", 115, "L2TP"},
    {"isis", 124, "ISIS"},
    {"sctp", 132, "SCTP"},
    {"fc", 133, "FC"},
    {"mobility-header", 135, "Mobility-Header"},
    {"udplite", 136, "UDPLite"},
    {"mpls-in-ip", 137, "MPLS-in-IP"},
    {"manet", 138, ""},
    {"hip", 139, "HIP"},
    {"shim6", 140, "Shim6"},
    {"wesp", 141, "WESP"},
    {"rohc", 142, "ROHC"},
    {"ethernet", 143, "Ethernet"},
    {"mptcp", 262, "MPTCP"},
};

// Debian's netbase /etc/services (netbase 6.4): name, port, protocol,
// aliases. getservbyport(port, NULL) returns the first entry with the port;
// getaddrinfo(NULL, name, NULL) tries tcp, then udp, then the others.
struct ServiceEntry {
  const char* name;
  int port;
  const char* proto;
  const char* aliases;  // space separated
};
const ServiceEntry kServices[] = {
    {"tcpmux", 1, "tcp", ""},
    {"echo", 7, "tcp", ""},
    {"echo", 7, "udp", ""},
    {"discard", 9, "tcp", "sink null"},
    {"discard", 9, "udp", "sink null"},
    {"systat", 11, "tcp", "users"},
    {"daytime", 13, "tcp", ""},
    {"daytime", 13, "udp", ""},
    {"netstat", 15, "tcp", ""},
    {"qotd", 17, "tcp", "quote"},
    {"chargen", 19, "tcp", "ttytst source"},
    {"chargen", 19, "udp", "ttytst source"},
    {"ftp-data", 20, "tcp", ""},
    {"ftp", 21, "tcp", ""},
    {"fsp", 21, "udp", "fspd"},
    {"ssh", 22, "tcp", ""},
    {"telnet", 23, "tcp", ""},
    {"smtp", 25, "tcp", "mail"},
    {"time", 37, "tcp", "timserver"},
    {"time", 37, "udp", "timserver"},
    {"whois", 43, "tcp", "nicname"},
    {"tacacs", 49, "tcp", ""},
    {"tacacs", 49, "udp", ""},
    {"domain", 53, "tcp", ""},
    {"domain", 53, "udp", ""},
    {"bootps", 67, "udp", ""},
    {"bootpc", 68, "udp", ""},
    {"tftp", 69, "udp", ""},
    {"gopher", 70, "tcp", ""},
    {"finger", 79, "tcp", ""},
    {"http", 80, "tcp", "www"},
    {"kerberos", 88, "tcp", "kerberos5 krb5 kerberos-sec"},
    {"kerberos", 88, "udp", "kerberos5 krb5 kerberos-sec"},
    {"iso-tsap", 102, "tcp", "tsap"},
    {"acr-nema", 104, "tcp", "dicom"},
    {"pop3", 110, "tcp", "pop-3"},
    {"sunrpc", 111, "tcp", "portmapper"},
    {"sunrpc", 111, "udp", "portmapper"},
    {"auth", 113, "tcp", "authentication tap ident"},
    {"nntp", 119, "tcp", "readnews untp"},
    {"ntp", 123, "udp", ""},
    {"epmap", 135, "tcp", "loc-srv"},
    {"netbios-ns", 137, "udp", ""},
    {"netbios-dgm", 138, "udp", ""},
    {"netbios-ssn", 139, "tcp", ""},
    {"imap2", 143, "tcp", "imap"},
    {"snmp", 161, "tcp", ""},
    {"snmp", 161, "udp", ""},
    {"snmp-trap", 162, "tcp", "snmptrap"},
    {"snmp-trap", 162, "udp", "snmptrap"},
    {"cmip-man", 163, "tcp", ""},
    {"cmip-man", 163, "udp", ""},
    {"cmip-agent", 164, "tcp", ""},
    {"cmip-agent", 164, "udp", ""},
    {"mailq", 174, "tcp", ""},
    {"xdmcp", 177, "udp", ""},
    {"bgp", 179, "tcp", ""},
    {"smux", 199, "tcp", ""},
    {"qmtp", 209, "tcp", ""},
    {"z3950", 210, "tcp", "wais"},
    {"ipx", 213, "udp", ""},
    {"ptp-event", 319, "udp", ""},
    {"ptp-general", 320, "udp", ""},
    {"pawserv", 345, "tcp", ""},
    {"zserv", 346, "tcp", ""},
    {"rpc2portmap", 369, "tcp", ""},
    {"rpc2portmap", 369, "udp", ""},
    {"codaauth2", 370, "tcp", ""},
    {"codaauth2", 370, "udp", ""},
    {"clearcase", 371, "udp", "Clearcase"},
    {"ldap", 389, "tcp", ""},
    {"ldap", 389, "udp", ""},
    {"svrloc", 427, "tcp", ""},
    {"svrloc", 427, "udp", ""},
    {"https", 443, "tcp", ""},
    {"https", 443, "udp", ""},
    {"snpp", 444, "tcp", ""},
    {"microsoft-ds", 445, "tcp", ""},
    {"kpasswd", 464, "tcp", ""},
    {"kpasswd", 464, "udp", ""},
    {"submissions", 465, "tcp", "ssmtp smtps urd"},
    {"saft", 487, "tcp", ""},
    {"isakmp", 500, "udp", ""},
    {"rtsp", 554, "tcp", ""},
    {"rtsp", 554, "udp", ""},
    {"nqs", 607, "tcp", ""},
    {"asf-rmcp", 623, "udp", ""},
    {"qmqp", 628, "tcp", ""},
    {"ipp", 631, "tcp", ""},
    {"ldp", 646, "tcp", ""},
    {"ldp", 646, "udp", ""},
    {"exec", 512, "tcp", ""},
    {"biff", 512, "udp", "comsat"},
    {"login", 513, "tcp", ""},
    {"who", 513, "udp", "whod"},
    {"shell", 514, "tcp", "cmd syslog"},
    {"syslog", 514, "udp", ""},
    {"printer", 515, "tcp", "spooler"},
    {"talk", 517, "udp", ""},
    {"ntalk", 518, "udp", ""},
    {"route", 520, "udp", "router routed"},
    {"gdomap", 538, "tcp", ""},
    {"gdomap", 538, "udp", ""},
    {"uucp", 540, "tcp", "uucpd"},
    {"klogin", 543, "tcp", ""},
    {"kshell", 544, "tcp", "krcmd"},
    {"dhcpv6-client", 546, "udp", ""},
    {"dhcpv6-server", 547, "udp", ""},
    {"afpovertcp", 548, "tcp", ""},
    {"nntps", 563, "tcp", "snntp"},
    {"submission", 587, "tcp", ""},
    {"ldaps", 636, "tcp", ""},
    {"ldaps", 636, "udp", ""},
    {"tinc", 655, "tcp", ""},
    {"tinc", 655, "udp", ""},
    {"silc", 706, "tcp", ""},
    {"kerberos-adm", 749, "tcp", ""},
    {"domain-s", 853, "tcp", ""},
    {"domain-s", 853, "udp", ""},
    {"rsync", 873, "tcp", ""},
    {"ftps-data", 989, "tcp", ""},
    {"ftps", 990, "tcp", ""},
    {"telnets", 992, "tcp", ""},
    {"imaps", 993, "tcp", ""},
    {"pop3s", 995, "tcp", ""},
    {"socks", 1080, "tcp", ""},
    {"proofd", 1093, "tcp", ""},
    {"rootd", 1094, "tcp", ""},
    {"openvpn", 1194, "tcp", ""},
    {"openvpn", 1194, "udp", ""},
    {"rmiregistry", 1099, "tcp", ""},
    {"lotusnote", 1352, "tcp", "lotusnotes"},
    {"ms-sql-s", 1433, "tcp", ""},
    {"ms-sql-m", 1434, "udp", ""},
    {"ingreslock", 1524, "tcp", ""},
    {"datametrics", 1645, "tcp", "old-radius"},
    {"datametrics", 1645, "udp", "old-radius"},
    {"sa-msg-port", 1646, "tcp", "old-radacct"},
    {"sa-msg-port", 1646, "udp", "old-radacct"},
    {"kermit", 1649, "tcp", ""},
    {"groupwise", 1677, "tcp", ""},
    {"l2f", 1701, "udp", "l2tp"},
    {"radius", 1812, "tcp", ""},
    {"radius", 1812, "udp", ""},
    {"radius-acct", 1813, "tcp", "radacct"},
    {"radius-acct", 1813, "udp", "radacct"},
    {"cisco-sccp", 2000, "tcp", ""},
    {"nfs", 2049, "tcp", ""},
    {"nfs", 2049, "udp", ""},
    {"gnunet", 2086, "tcp", ""},
    {"gnunet", 2086, "udp", ""},
    {"rtcm-sc104", 2101, "tcp", ""},
    {"rtcm-sc104", 2101, "udp", ""},
    {"gsigatekeeper", 2119, "tcp", ""},
    {"gris", 2135, "tcp", ""},
    {"cvspserver", 2401, "tcp", ""},
    {"venus", 2430, "tcp", ""},
    {"venus", 2430, "udp", ""},
    {"venus-se", 2431, "tcp", ""},
    {"venus-se", 2431, "udp", ""},
    {"codasrv", 2432, "tcp", ""},
    {"codasrv", 2432, "udp", ""},
    {"codasrv-se", 2433, "tcp", ""},
    {"codasrv-se", 2433, "udp", ""},
    {"mon", 2583, "tcp", ""},
    {"mon", 2583, "udp", ""},
    {"dict", 2628, "tcp", ""},
    {"f5-globalsite", 2792, "tcp", ""},
    {"gsiftp", 2811, "tcp", ""},
    {"gpsd", 2947, "tcp", ""},
    {"gds-db", 3050, "tcp", "gds_db"},
    {"icpv2", 3130, "udp", "icp"},
    {"isns", 3205, "tcp", ""},
    {"isns", 3205, "udp", ""},
    {"iscsi-target", 3260, "tcp", ""},
    {"mysql", 3306, "tcp", ""},
    {"ms-wbt-server", 3389, "tcp", ""},
    {"nut", 3493, "tcp", ""},
    {"nut", 3493, "udp", ""},
    {"distcc", 3632, "tcp", ""},
    {"daap", 3689, "tcp", ""},
    {"svn", 3690, "tcp", "subversion"},
    {"suucp", 4031, "tcp", ""},
    {"sysrqd", 4094, "tcp", ""},
    {"sieve", 4190, "tcp", ""},
    {"epmd", 4369, "tcp", ""},
    {"remctl", 4373, "tcp", ""},
    {"f5-iquery", 4353, "tcp", ""},
    {"ntske", 4460, "tcp", ""},
    {"ipsec-nat-t", 4500, "udp", ""},
    {"iax", 4569, "udp", ""},
    {"mtn", 4691, "tcp", ""},
    {"radmin-port", 4899, "tcp", ""},
    {"sip", 5060, "tcp", ""},
    {"sip", 5060, "udp", ""},
    {"sip-tls", 5061, "tcp", ""},
    {"sip-tls", 5061, "udp", ""},
    {"xmpp-client", 5222, "tcp", "jabber-client"},
    {"xmpp-server", 5269, "tcp", "jabber-server"},
    {"cfengine", 5308, "tcp", ""},
    {"mdns", 5353, "udp", ""},
    {"postgresql", 5432, "tcp", "postgres"},
    {"freeciv", 5556, "tcp", "rptp"},
    {"amqps", 5671, "tcp", ""},
    {"amqp", 5672, "tcp", ""},
    {"amqp", 5672, "sctp", ""},
    {"x11", 6000, "tcp", "x11-0"},
    {"x11-1", 6001, "tcp", ""},
    {"x11-2", 6002, "tcp", ""},
    {"x11-3", 6003, "tcp", ""},
    {"x11-4", 6004, "tcp", ""},
    {"x11-5", 6005, "tcp", ""},
    {"x11-6", 6006, "tcp", ""},
    {"x11-7", 6007, "tcp", ""},
    {"gnutella-svc", 6346, "tcp", ""},
    {"gnutella-svc", 6346, "udp", ""},
    {"gnutella-rtr", 6347, "tcp", ""},
    {"gnutella-rtr", 6347, "udp", ""},
    {"redis", 6379, "tcp", ""},
    {"sge-qmaster", 6444, "tcp", "sge_qmaster"},
    {"sge-execd", 6445, "tcp", "sge_execd"},
    {"mysql-proxy", 6446, "tcp", ""},
    {"babel", 6696, "udp", ""},
    {"ircs-u", 6697, "tcp", ""},
    {"bbs", 7000, "tcp", ""},
    {"afs3-fileserver", 7000, "udp", ""},
    {"afs3-callback", 7001, "udp", ""},
    {"afs3-prserver", 7002, "udp", ""},
    {"afs3-vlserver", 7003, "udp", ""},
    {"afs3-kaserver", 7004, "udp", ""},
    {"afs3-volser", 7005, "udp", ""},
    {"afs3-bos", 7007, "udp", ""},
    {"afs3-update", 7008, "udp", ""},
    {"afs3-rmtsys", 7009, "udp", ""},
    {"font-service", 7100, "tcp", "xfs"},
    {"http-alt", 8080, "tcp", "webcache"},
    {"puppet", 8140, "tcp", ""},
    {"bacula-dir", 9101, "tcp", ""},
    {"bacula-fd", 9102, "tcp", ""},
    {"bacula-sd", 9103, "tcp", ""},
    {"xmms2", 9667, "tcp", ""},
    {"nbd", 10809, "tcp", ""},
    {"zabbix-agent", 10050, "tcp", ""},
    {"zabbix-trapper", 10051, "tcp", ""},
    {"amanda", 10080, "tcp", ""},
    {"dicom", 11112, "tcp", ""},
    {"hkp", 11371, "tcp", ""},
    {"db-lsp", 17500, "tcp", ""},
    {"dcap", 22125, "tcp", ""},
    {"gsidcap", 22128, "tcp", ""},
    {"wnn6", 22273, "tcp", ""},
    {"rtmp", 1, "ddp", ""},
    {"nbp", 2, "ddp", ""},
    {"echo", 4, "ddp", ""},
    {"zip", 6, "ddp", ""},
    {"kerberos4", 750, "udp", "kerberos-iv kdc"},
    {"kerberos4", 750, "tcp", "kerberos-iv kdc"},
    {"kerberos-master", 751, "udp", "kerberos_master"},
    {"kerberos-master", 751, "tcp", ""},
    {"passwd-server", 752, "udp", "passwd_server"},
    {"krb-prop", 754, "tcp", "krb_prop krb5_prop hprop"},
    {"zephyr-srv", 2102, "udp", ""},
    {"zephyr-clt", 2103, "udp", ""},
    {"zephyr-hm", 2104, "udp", ""},
    {"iprop", 2121, "tcp", ""},
    {"supfilesrv", 871, "tcp", ""},
    {"supfiledbg", 1127, "tcp", ""},
    {"poppassd", 106, "tcp", ""},
    {"moira-db", 775, "tcp", "moira_db"},
    {"moira-update", 777, "tcp", "moira_update"},
    {"moira-ureg", 779, "udp", "moira_ureg"},
    {"spamd", 783, "tcp", ""},
    {"skkserv", 1178, "tcp", ""},
    {"predict", 1210, "udp", ""},
    {"rmtcfg", 1236, "tcp", ""},
    {"xtel", 1313, "tcp", ""},
    {"xtelw", 1314, "tcp", ""},
    {"zebrasrv", 2600, "tcp", ""},
    {"zebra", 2601, "tcp", ""},
    {"ripd", 2602, "tcp", ""},
    {"ripngd", 2603, "tcp", ""},
    {"ospfd", 2604, "tcp", ""},
    {"bgpd", 2605, "tcp", ""},
    {"ospf6d", 2606, "tcp", ""},
    {"ospfapi", 2607, "tcp", ""},
    {"isisd", 2608, "tcp", ""},
    {"fax", 4557, "tcp", ""},
    {"hylafax", 4559, "tcp", ""},
    {"munin", 4949, "tcp", "lrrd"},
    {"rplay", 5555, "udp", ""},
    {"nrpe", 5666, "tcp", ""},
    {"nsca", 5667, "tcp", ""},
    {"canna", 5680, "tcp", ""},
    {"syslog-tls", 6514, "tcp", ""},
    {"sane-port", 6566, "tcp", "sane saned"},
    {"ircd", 6667, "tcp", ""},
    {"zope-ftp", 8021, "tcp", ""},
    {"tproxy", 8081, "tcp", ""},
    {"omniorb", 8088, "tcp", ""},
    {"clc-build-daemon", 8990, "tcp", ""},
    {"xinetd", 9098, "tcp", ""},
    {"git", 9418, "tcp", ""},
    {"zope", 9673, "tcp", ""},
    {"webmin", 10000, "tcp", ""},
    {"kamanda", 10081, "tcp", ""},
    {"amandaidx", 10082, "tcp", ""},
    {"amidxtape", 10083, "tcp", ""},
    {"sgi-cmsd", 17001, "udp", ""},
    {"sgi-crsd", 17002, "udp", ""},
    {"sgi-gcd", 17003, "udp", ""},
    {"sgi-cad", 17004, "tcp", ""},
    {"binkp", 24554, "tcp", ""},
    {"asp", 27374, "tcp", ""},
    {"asp", 27374, "udp", ""},
    {"csync2", 30865, "tcp", ""},
    {"dircproxy", 57000, "tcp", ""},
    {"tfido", 60177, "tcp", ""},
    {"fido", 60179, "tcp", ""},
};

bool has_word(const char* list, const std::string& word) {
  std::istringstream in(list);
  std::string w;
  while (in >> w)
    if (w == word) return true;
  return false;
}

// nft_getprotobyname: -1 if unknown.
int proto_by_name(const std::string& name) {
  if (name == "icmpv6") return IPPROTO_ICMPV6;  // nft's grammar keywords
  if (name == "comp") return IPPROTO_COMP;
  for (const ProtoEntry& p : kProtocols)
    if (name == p.name || has_word(p.aliases, name)) return p.number;
  return -1;
}

const char* proto_by_number(unsigned n) {
  for (const ProtoEntry& p : kProtocols)
    if (p.number == static_cast<int>(n)) return p.name;
  return nullptr;
}

int service_by_name(const std::string& name) {
  for (const char* proto : {"tcp", "udp", "dccp", "udplite", "sctp"}) {
    for (const ServiceEntry& s : kServices) {
      if (std::strcmp(s.proto, proto) != 0) continue;
      if (name == s.name || has_word(s.aliases, name)) return s.port;
    }
  }
  return -1;
}

const char* service_by_port(unsigned port) {
  for (const ServiceEntry& s : kServices)
    if (s.port == static_cast<int>(port)) return s.name;
  return nullptr;
}

// strtoumax(text, &end, 0) consuming the whole text.
bool whole_number(const std::string& text, uintmax_t& out, bool& overflow) {
  const char* s = text.c_str();
  char* end = nullptr;
  errno = 0;
  out = std::strtoumax(s, &end, 0);
  overflow = errno == ERANGE;
  return end != s && *end == '\0';
}

// --- link layer addresses ------------------------------------------------------------

ParseResult lladdr_parse(const Datatype&, const std::string& text, unsigned bits) {
  Bytes buf;
  const char* s = text.c_str();
  for (;;) {
    char* p = nullptr;
    unsigned long n = std::strtoul(s, &p, 16);
    if (s == p || n > 0xff) return parse_error("Invalid LL address");
    buf.push_back(static_cast<uint8_t>(n));
    if (*p == '\0') break;
    s = ++p;
  }
  return finish_integer(buf, bits, static_cast<unsigned>(buf.size() * 8));
}

std::string lladdr_print(const Datatype&, const Value& v, const PrintOptions&) {
  std::string out;
  for (size_t i = 0; i < v.be.size(); i++) {
    if (i) out += ':';
    out += fmt::format("{:02x}", v.be[i]);
  }
  return out;
}

// --- IP addresses ----------------------------------------------------------------------

bool parse_v4_numeric(const std::string& text, uint8_t out[4]) {
  for (char c : text)
    if (std::isspace(static_cast<unsigned char>(c))) return false;
  struct in_addr a;
  if (inet_aton(text.c_str(), &a) == 0) return false;
  std::memcpy(out, &a, 4);
  return true;
}

ParseResult ipaddr_parse(const Datatype&, const std::string& text, unsigned bits) {
  uint8_t a[4];
  if (!parse_v4_numeric(text, a)) {
    uint8_t a6[16];
    if (text == "localhost") {
      a[0] = 127, a[1] = 0, a[2] = 0, a[3] = 1;
    } else if (inet_pton(AF_INET6, text.c_str(), a6) == 1) {
      return parse_error("Could not resolve hostname: Address family for hostname not supported");
    } else {
      return parse_error("Could not resolve hostname: Name or service not known");
    }
  }
  return finish_integer(Bytes(a, a + 4), bits, 32);
}

std::string ipaddr_print(const Datatype&, const Value& v, const PrintOptions&) {
  Value w = Value::from_bytes(v.be, 32);
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, w.be.data(), buf, sizeof(buf));
  return buf;
}

ParseResult ip6addr_parse(const Datatype&, const std::string& text, unsigned bits) {
  uint8_t a[16];
  if (inet_pton(AF_INET6, text.c_str(), a) != 1) {
    uint8_t a4[4];
    // Debian's /etc/hosts: ::1 localhost ip6-localhost ip6-loopback
    if (text == "localhost" || text == "ip6-localhost" || text == "ip6-loopback") {
      std::memset(a, 0, sizeof(a));
      a[15] = 1;
    } else if (parse_v4_numeric(text, a4)) {
      return parse_error("Could not resolve hostname: Address family for hostname not supported");
    } else {
      return parse_error("Could not resolve hostname: Name or service not known");
    }
  }
  return finish_integer(Bytes(a, a + 16), bits, 128);
}

std::string ip6addr_print(const Datatype&, const Value& v, const PrintOptions&) {
  Value w = Value::from_bytes(v.be, 128);
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, w.be.data(), buf, sizeof(buf));
  return buf;
}

// --- inet_proto, inet_service ---------------------------------------------------------------

ParseResult inet_protocol_parse(const Datatype&, const std::string& text, unsigned bits) {
  uintmax_t i;
  bool overflow;
  unsigned proto;
  if (whole_number(text, i, overflow)) {
    if (overflow || i > UINT8_MAX) return parse_error("Protocol out of range");
    proto = static_cast<unsigned>(i);
  } else {
    int r = proto_by_name(text);
    if (r < 0) return parse_error("Could not resolve protocol name");
    proto = static_cast<uint8_t>(r);  // nft stores it in a uint8_t
  }
  return finish_integer(big_from_u64(proto), bits, 8);
}

std::string inet_protocol_print(const Datatype& dt, const Value& v, const PrintOptions& opts) {
  if (!numeric_proto(opts) && v.fits_u64() && v.to_u64() <= UINT8_MAX) {
    if (const char* name = proto_by_number(static_cast<unsigned>(v.to_u64()))) return name;
  }
  return integer_print(dt, v);
}

ParseResult inet_service_parse(const Datatype&, const std::string& text, unsigned bits) {
  uintmax_t i;
  bool overflow;
  unsigned port;
  if (whole_number(text, i, overflow)) {
    if (overflow || i > UINT16_MAX) return parse_error("Service out of range");
    port = static_cast<unsigned>(i);
  } else {
    int r = service_by_name(text);
    if (r < 0)
      return parse_error("Could not resolve service: Servname not supported for ai_socktype");
    port = static_cast<unsigned>(r);
  }
  return finish_integer(big_from_u64(port), bits, 16);
}

std::string inet_service_print(const Datatype& dt, const Value& v, const PrintOptions& opts) {
  if (opts.service && v.fits_u64() && v.to_u64() <= UINT16_MAX) {
    unsigned port = static_cast<unsigned>(v.to_u64());
    if (const char* name = service_by_port(port)) return fmt::format("\"{}\"", name);
    return std::to_string(port);
  }
  return integer_print(dt, v);
}

}  // namespace

namespace types_detail {

const Datatype& lladdr_type() {
  static const Datatype d{.name = "ll_addr", .desc = "link layer address", .bits = 0,
                          .order = ByteOrder::Network, .base = &integer_type(), .symbols = {},
                          .is_bitmask = false, .parse = lladdr_parse, .print = lladdr_print};
  return d;
}

const Datatype& etheraddr_type() {
  static const Datatype d{.name = "ether_addr", .desc = "Ethernet address", .bits = 48,
                          .order = ByteOrder::Network, .base = &lladdr_type(), .symbols = {}};
  return d;
}

const Datatype& ipaddr_type() {
  static const Datatype d{.name = "ipv4_addr", .desc = "IPv4 address", .bits = 32,
                          .order = ByteOrder::Network, .base = &integer_type(), .symbols = {},
                          .is_bitmask = false, .parse = ipaddr_parse, .print = ipaddr_print};
  return d;
}

const Datatype& ip6addr_type() {
  static const Datatype d{.name = "ipv6_addr", .desc = "IPv6 address", .bits = 128,
                          .order = ByteOrder::Network, .base = &integer_type(), .symbols = {},
                          .is_bitmask = false, .parse = ip6addr_parse, .print = ip6addr_print};
  return d;
}

const Datatype& ethertype_type() {
  static const Datatype d{.name = "ether_type", .desc = "Ethernet protocol", .bits = 16,
                          .order = ByteOrder::Network, .base = &integer_type(),
                          .symbols = {{"ip", 0x0800},
                                      {"arp", 0x0806},
                                      {"ip6", 0x86dd},
                                      {"8021q", 0x8100},
                                      {"8021ad", 0x88a8},
                                      {"vlan", 0x8100}}};  // compatibility alias
  return d;
}

const Datatype& arpop_type() {
  static const Datatype d{.name = "arp_op", .desc = "ARP operation", .bits = 16,
                          .order = ByteOrder::Network, .base = &integer_type(),
                          .symbols = {{"request", 1},
                                      {"reply", 2},
                                      {"rrequest", 3},
                                      {"rreply", 4},
                                      {"inrequest", 8},
                                      {"inreply", 9},
                                      {"nak", 10}}};
  return d;
}

const Datatype& inet_protocol_type() {
  static const Datatype d{.name = "inet_proto", .desc = "Internet protocol", .bits = 8,
                          .order = ByteOrder::Invalid, .base = &integer_type(), .symbols = {},
                          .is_bitmask = false, .parse = inet_protocol_parse,
                          .print = inet_protocol_print};
  return d;
}

const Datatype& inet_service_type() {
  static const Datatype d{.name = "inet_service", .desc = "internet network service", .bits = 16,
                          .order = ByteOrder::Network, .base = &integer_type(), .symbols = {},
                          .is_bitmask = false, .parse = inet_service_parse,
                          .print = inet_service_print};
  return d;
}

// nft's mptcpopt_subtype: an integer (named "integer") with the MPTCP
// option subtypes as symbols.
const Datatype& mptcp_subtype_type() {
  static const Datatype d{.name = "mptcpopt_subtype", .desc = "mptcp option subtype", .bits = 4,
                          .order = ByteOrder::Network, .base = &integer_type(),
                          .symbols = {{"mp-capable", 0},
                                      {"mp-join", 1},
                                      {"add-addr", 2},
                                      {"remove-addr", 3},
                                      {"mp-prio", 4},
                                      {"mp-fail", 5},
                                      {"mp-fastclose", 6},
                                      {"mp-tcprst", 7}}};
  return d;
}

const Datatype& tcp_flag_type() {
  static const Datatype d{.name = "tcp_flag", .desc = "TCP flag", .bits = 8,
                          .order = ByteOrder::Network, .base = &bitmask_type(),
                          .symbols = {{"fin", 0x01},
                                      {"syn", 0x02},
                                      {"rst", 0x04},
                                      {"psh", 0x08},
                                      {"ack", 0x10},
                                      {"urg", 0x20},
                                      {"ecn", 0x40},
                                      {"cwr", 0x80}},
                          .is_bitmask = true};
  return d;
}

const Datatype& dccp_pkttype_type() {
  static const Datatype d{.name = "dccp_pkttype", .desc = "DCCP packet type", .bits = 4,
                          .order = ByteOrder::Invalid, .base = &integer_type(),
                          .symbols = {{"request", 0},
                                      {"response", 1},
                                      {"data", 2},
                                      {"ack", 3},
                                      {"dataack", 4},
                                      {"closereq", 5},
                                      {"close", 6},
                                      {"reset", 7},
                                      {"sync", 8},
                                      {"syncack", 9}}};
  return d;
}

const Datatype& mh_type_type() {
  static const Datatype d{.name = "mh_type", .desc = "Mobility Header Type", .bits = 8,
                          .order = ByteOrder::Network, .base = &integer_type(),
                          .symbols = {{"binding-refresh-request", 0},
                                      {"home-test-init", 1},
                                      {"careof-test-init", 2},
                                      {"home-test", 3},
                                      {"careof-test", 4},
                                      {"binding-update", 5},
                                      {"binding-acknowledgement", 6},
                                      {"binding-error", 7},
                                      {"fast-binding-update", 8},
                                      {"fast-binding-acknowledgement", 9},
                                      {"fast-binding-advertisement", 10},
                                      {"experimental-mobility-header", 11},
                                      {"home-agent-switch-message", 12}}};
  return d;
}

const Datatype& dscp_type() {
  static const Datatype d{.name = "dscp", .desc = "Differentiated Services Code Point", .bits = 6,
                          .order = ByteOrder::Network, .base = &integer_type(),
                          .symbols = {{"cs0", 0x00},  {"cs1", 0x08},  {"cs2", 0x10},
                                      {"cs3", 0x18},  {"cs4", 0x20},  {"cs5", 0x28},
                                      {"cs6", 0x30},  {"cs7", 0x38},  {"df", 0x00},
                                      {"be", 0x00},   {"lephb", 0x01}, {"af11", 0x0a},
                                      {"af12", 0x0c}, {"af13", 0x0e}, {"af21", 0x12},
                                      {"af22", 0x14}, {"af23", 0x16}, {"af31", 0x1a},
                                      {"af32", 0x1c}, {"af33", 0x1e}, {"af41", 0x22},
                                      {"af42", 0x24}, {"af43", 0x26}, {"va", 0x2c},
                                      {"ef", 0x2e}}};
  return d;
}

const Datatype& ecn_type() {
  static const Datatype d{.name = "ecn", .desc = "Explicit Congestion Notification", .bits = 2,
                          .order = ByteOrder::Network, .base = &integer_type(),
                          .symbols = {{"not-ect", 0}, {"ect1", 1}, {"ect0", 2}, {"ce", 3}}};
  return d;
}

}  // namespace types_detail
}  // namespace nfx
