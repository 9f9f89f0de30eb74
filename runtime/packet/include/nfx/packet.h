// nfx packet model: frame buffers, and frames seen exactly as the Linux
// kernel's netfilter sees them when a hook runs.
//
// This is the one public header of the packet library, the bottom layer of
// the runtime and the interpreter. It depends on the C++ standard library
// only. The kernel is the specification; each function names the kernel
// function whose behaviour it mirrors.
//
// Offsets are absolute: counted from the first byte of the frame as it was
// received (the Ethernet destination address, or the IP header for RawIp).
// A VLAN tag the kernel would have moved into skb->vlan_tci stays inline in
// our bytes; PacketLayout records it, and loads see the same bytes the
// kernel's nft_payload_copy_vlan() reconstructs.
//
// Frames are modelled as the kernel holds received frames: linear, and with
// ip_summed == CHECKSUM_NONE (no checksum offload state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace nfx::packet {

// ---------------------------------------------------------------------------
// Protocol numbers (host order)

inline constexpr std::uint16_t kEthPIp = 0x0800;
inline constexpr std::uint16_t kEthPArp = 0x0806;
inline constexpr std::uint16_t kEthPIpv6 = 0x86DD;
inline constexpr std::uint16_t kEthP8021Q = 0x8100;
inline constexpr std::uint16_t kEthP8021AD = 0x88A8;
inline constexpr std::uint16_t kEthP8023 = 0x0001;  // raw 802.3 (Novell), eth_type_trans
inline constexpr std::uint16_t kEthP8022 = 0x0004;  // 802.2 LLC, eth_type_trans

inline constexpr std::uint8_t kIpProtoHopopts = 0;
inline constexpr std::uint8_t kIpProtoIcmp = 1;
inline constexpr std::uint8_t kIpProtoTcp = 6;
inline constexpr std::uint8_t kIpProtoUdp = 17;
inline constexpr std::uint8_t kIpProtoRouting = 43;
inline constexpr std::uint8_t kIpProtoFragment = 44;
inline constexpr std::uint8_t kIpProtoEsp = 50;
inline constexpr std::uint8_t kIpProtoAh = 51;
inline constexpr std::uint8_t kIpProtoIcmpv6 = 58;
inline constexpr std::uint8_t kIpProtoNone = 59;
inline constexpr std::uint8_t kIpProtoDstopts = 60;
inline constexpr std::uint8_t kIpProtoSctp = 132;
inline constexpr std::uint8_t kIpProtoUdplite = 136;

// IPv4 option types that nft's `ip option` can look for (nft_exthdr ipv4).
inline constexpr std::uint8_t kIpOptRr = 7;
inline constexpr std::uint8_t kIpOptLsrr = 131;
inline constexpr std::uint8_t kIpOptSsrr = 137;
inline constexpr std::uint8_t kIpOptRa = 148;

// ---------------------------------------------------------------------------
// Frame: an owned frame buffer with headroom and tailroom, like an skb's
// linear area. Copying copies the bytes (a frame is at most a few KiB).

class Frame {
 public:
  static constexpr std::size_t kDefaultHeadroom = 64;
  static constexpr std::size_t kDefaultTailroom = 64;

  Frame() = default;
  explicit Frame(std::span<const std::uint8_t> bytes, std::size_t headroom = kDefaultHeadroom,
                 std::size_t tailroom = kDefaultTailroom);
  Frame(const std::uint8_t* bytes, std::size_t len);

  std::uint8_t* data() noexcept { return buf_.data() + head_; }
  const std::uint8_t* data() const noexcept { return buf_.data() + head_; }
  std::size_t size() const noexcept { return len_; }
  bool empty() const noexcept { return len_ == 0; }
  std::span<std::uint8_t> bytes() noexcept { return {data(), len_}; }
  std::span<const std::uint8_t> bytes() const noexcept { return {data(), len_}; }
  std::size_t headroom() const noexcept { return head_; }
  std::size_t tailroom() const noexcept { return buf_.size() - head_ - len_; }

  // skb_push: grows the frame by n bytes at the front (zeroed), reallocating
  // when the headroom is short. Returns the new data().
  std::uint8_t* push_front(std::size_t n);
  // skb_pull: drops n bytes from the front. False (and no change) if n > size().
  bool pull_front(std::size_t n);
  // Grows (zero-filled, using tailroom first) or shrinks the frame to n bytes.
  void resize(std::size_t n);
  // Replaces the contents with `bytes` behind the default headroom, reusing
  // the buffer when it is large enough (a receive loop's frame allocates once).
  void assign(std::span<const std::uint8_t> bytes);

 private:
  std::vector<std::uint8_t> buf_;
  std::size_t head_ = 0;
  std::size_t len_ = 0;
};

// Inserts an 802.1Q/802.1ad tag after the Ethernet addresses (as
// skb_vlan_push does when it puts a tag back into the frame). False if the
// frame is shorter than the 12 address bytes.
bool insert_vlan_tag(Frame& frame, std::uint16_t tpid, std::uint16_t tci);
// Removes the tag that follows the Ethernet addresses, returning its TPID and
// TCI. False (and no change) if there is no 802.1Q/802.1ad tag there.
bool remove_vlan_tag(Frame& frame, std::uint16_t* tpid = nullptr, std::uint16_t* tci = nullptr);

// ---------------------------------------------------------------------------
// Layout: what the kernel knows about a frame when a netfilter hook runs
// (struct nft_pktinfo and the skb fields nft reads).

// pcap's DLT_EN10MB (a TAP device) or DLT_RAW (a TUN device: the frame starts
// with the IP header and there is no link-layer header).
enum class LinkType : std::uint8_t { Ethernet, RawIp };

// Which pktinfo setup the hook uses.
enum class Context : std::uint8_t {
  // netdev ingress/egress, bridge, and inet ingress chains: the frame as the
  // device received it, checked by nft_set_pktinfo_ipv4_validate /
  // nft_set_pktinfo_ipv6_validate (trailing bytes are not trimmed). In inet
  // ingress the kernel drops the IP packets that fail (l4_valid false);
  // netdev and bridge chains run them without transport information.
  Validate,
  // ip, ip6 and inet chains at prerouting/input/forward/output/postrouting:
  // the packet already passed ip_rcv_core / ip6_rcv_core, which trimmed it to
  // the IP length (nft_set_pktinfo_ipv4 / nft_set_pktinfo_ipv6). `end` is the
  // trimmed end. The runtime drops packets whose *_rcv_ok is false before the
  // prerouting hook.
  IpStack,
};

// Why ip_rcv_core / ip6_rcv_core would drop the packet (Ok when it would not).
enum class RcvError : std::uint8_t {
  Ok,
  NotIp,            // skb->protocol is not this family's
  HeaderTruncated,  // fewer bytes than the fixed header (or than ihl*4)
  BadVersion,       // IPv4: version != 4 or ihl < 5; IPv6: version != 6
  BadChecksum,      // IPv4 header checksum (ip_fast_csum) is not zero
  Truncated,        // tot_len / payload_len + 40 exceeds the frame
  BadLength,        // IPv4 tot_len < ihl*4
  LoopbackAddress,  // IPv6 ::1 as source or destination on a non-loopback device
  MulticastSource,  // IPv6 multicast source address
  MulticastScope,   // IPv6 multicast destination of scope 0 or interface-local (1)
  BadHopByHop,      // IPv6 hop-by-hop header rejected by ipv6_parse_hopopts
};

struct PacketLayout {
  LinkType link = LinkType::Ethernet;
  Context context = Context::Validate;

  // False when the kernel would not deliver the frame to any hook: an
  // Ethernet frame shorter than its 14-byte header (tun_get_user rejects it),
  // a VLAN tag without the 6 bytes skb_vlan_untag pulls, a RawIp frame whose
  // first nibble is neither 4 nor 6 (tun_get_user drops it). Every other field
  // is meaningless then, and every load and lookup fails.
  bool link_ok = false;

  // Offset of the MAC header: 0 for Ethernet, -1 for RawIp (no link-layer
  // header: link-layer payload loads fail, as skb_mac_header_len() == 0).
  std::int32_t mac_off = -1;

  // The outer tag skb_vlan_untag took into skb->vlan_tci. Only the outer tag:
  // with QinQ the inner tag sits at nh_off and `protocol` is its TPID.
  bool vlan_present = false;
  std::uint16_t vlan_tci = 0;
  std::uint16_t vlan_proto = 0;  // the outer TPID (0x8100 or 0x88a8)

  // skb->protocol: the ethertype after the outer tag, or what eth_type_trans
  // and vlan_set_encap_proto derive for 802.3 lengths (kEthP8023/kEthP8022);
  // for RawIp, the IP version as tun_get_user maps it.
  std::uint16_t protocol = 0;

  // Network header offset: after the Ethernet header and the outer tag.
  std::uint32_t nh_off = 0;

  // One past the last byte the kernel's skb holds: the frame length, or in
  // IpStack context nh_off + the IP length after ip_rcv_core's trim. Every
  // load is bounded by it.
  std::uint32_t end = 0;

  // IPv4 tot_len or IPv6 payload_len + 40, as the header says (0 if the fixed
  // header is missing or of another IP version).
  std::uint32_t l3_len = 0;

  // nft_pktinfo: NFT_PKTINFO_L4PROTO, tprot, thoff, fragoff. When l4_valid is
  // false, l4proto, fragoff are 0 and th_off is nh_off (nft_set_pktinfo_unspec).
  bool l4_valid = false;
  std::uint8_t l4proto = 0;
  // Transport header offset. For IPv6 it may lie past `end` (ipv6_find_hdr
  // does not check that the last header fits); loads then fail. Meaningless
  // (nh_off) for a non-first IPv6 fragment, as the kernel leaves it 0.
  std::uint32_t th_off = 0;
  // Non-zero for a non-first fragment: transport loads and lookups fail
  // (NFT_BREAK). IPv4: the 13-bit offset field; IPv6: the offset in bytes as
  // ipv6_find_hdr reports it. Only zero/non-zero carries meaning.
  std::uint16_t fragoff = 0;
  // Any fragment, first or not: IPv4 MF or offset set; IPv6 a fragment
  // header in the chain (IP6_FH_F_FRAG). Not part of nft_pktinfo.
  bool fragment = false;

  // Whether ip_rcv_core / ip6_rcv_core would pass the packet up to the
  // prerouting hook (see parse_layout for the exact checks), and why not.
  bool ip_rcv_ok = false;
  bool ipv6_rcv_ok = false;
  RcvError rcv_error = RcvError::NotIp;
  // When ip6_rcv_core drops a bad hop-by-hop header with an ICMPv6
  // parameter problem: the offset it points at (from the network header;
  // 0: none is sent) and its code.
  std::uint32_t rcv_param_problem = 0;
  std::uint8_t rcv_param_code = 0;
};

// Builds the layout of `len` bytes at `data` as the kernel would have it.
//
// Link layer (Ethernet): eth_type_trans derives skb->protocol (an ethertype
// >= 0x600, else 802.3/802.2); for 802.1Q/802.1ad skb_vlan_untag takes the
// outer tag (vlan_set_encap_proto gives the new protocol). RawIp: the IP
// version nibble gives the protocol, as tun_get_user does.
//
// IPv4 (protocol 0x0800), nft_set_pktinfo_ipv4(_validate): the fixed header
// must be present, ihl >= 5, version 4, tot_len <= the bytes from nh_off and
// tot_len >= ihl*4; otherwise l4_valid is false. IpStack context trims `end`
// to nh_off + tot_len.
//   ip_rcv_ok mirrors ip_rcv_core: 20 header bytes, ihl >= 5 and version 4,
//   ihl*4 bytes present, header checksum, tot_len <= frame, tot_len >=
//   ihl*4. ip_rcv_core checks no addresses: martian sources (multicast,
//   broadcast, loopback, zeronet) are dropped by the route lookup
//   (ip_route_input_slow) after the prerouting hook, and options by
//   ip_rcv_options after it too; PACKET_OTHERHOST (another host's MAC) is the
//   runtime's to check.
//
// IPv6 (protocol 0x86dd), nft_set_pktinfo_ipv6(_validate): 40 header bytes,
// version 6, payload_len + 40 <= the bytes from nh_off; then ipv6_find_hdr
// with target -1 and IP6_FH_F_AUTH walks hop-by-hop, routing, fragment and
// destination options headers and stops at the first other header, at
// NEXTHDR_NONE, or at AH (l4proto 51, th_off at the AH). A truncated or
// malformed chain, or a first fragment that does not reach the final header,
// leaves l4_valid false. A non-first fragment gives l4proto = the fragment
// header's next header and fragoff != 0.
//   ipv6_rcv_ok mirrors ip6_rcv_core on a non-loopback device for a frame
//   not looped back: 40 header bytes, version 6, no ::1 source or
//   destination, no multicast source, no multicast destination of scope 0 or
//   1, payload_len + 40 <= frame (unless payload_len is 0 with a hop-by-hop
//   header: jumbogram), and a hop-by-hop header that ipv6_parse_hopopts
//   accepts with the default sysctls (at most 8 options, padding rules,
//   Router Alert length 2, Jumbo rules, unknown options per their two high
//   bits; IOAM disabled; CALIPSO rejected as no DOI is configured).
//   v4-mapped sources are not dropped here (that check moved to the TCP,
//   DCCP and MPTCP connection requests in 2021).
//
// ARP and other protocols: only the link fields, nh_off and protocol.
PacketLayout parse_layout(const std::uint8_t* data, std::size_t len, LinkType link,
                          Context context);
inline PacketLayout parse_layout(std::span<const std::uint8_t> frame, LinkType link,
                                 Context context) {
  return parse_layout(frame.data(), frame.size(), link, context);
}

// ---------------------------------------------------------------------------
// Payload loads (nft_payload_eval).

enum class PayloadBase : std::uint8_t { Link, Network, Transport, Inner };

// Offset a payload base stands for, or nullopt where nft_payload_eval
// breaks: Link needs a MAC header of non-zero length (not RawIp); Transport
// needs l4_valid and fragoff == 0; Inner (nft_payload_inner_offset) needs the
// same and UDP (th_off + 8) or TCP (th_off + doff*4, the TCP header readable).
std::optional<std::uint32_t> payload_base_offset(std::span<const std::uint8_t> frame,
                                                 const PacketLayout& layout, PayloadBase base);

// Copies `len` bytes at `offset` from the base into `out`, or returns false
// where the kernel's skb_copy_bits fails (past `end`) or the base does not
// exist: the rule does not match (NFT_BREAK). Link-layer loads of a tagged
// frame read the tag's type field as skb->protocol, as the kernel's rebuilt
// header has it (it differs from the bytes only for 802.3 lengths).
bool payload_load(std::span<const std::uint8_t> frame, const PacketLayout& layout,
                  PayloadBase base, std::uint32_t offset, std::uint32_t len, std::uint8_t* out);

// ---------------------------------------------------------------------------
// Header lookups for nft_exthdr. Each returns "not found" instead of reading
// past `end` or the frame.

// A found option or chunk: absolute offset of its first (type) byte and its
// length as the header says.
struct OptionRef {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

// `exthdr` for IPv6 (nft_exthdr_ipv6_eval): ipv6_find_hdr(skb, &off, target,
// NULL, NULL). Needs protocol 0x86dd and a full IPv6 header. Returns the
// absolute offset of the first header of type `target`, or nullopt.
// A non-first fragment hides everything after its fragment header, and
// looking for the fragment header itself in a non-first fragment fails too,
// exactly as ipv6_find_hdr does. Target 59 (no next header) finds where the
// chain ends in NEXTHDR_NONE.
std::optional<std::uint32_t> find_ipv6_exthdr(std::span<const std::uint8_t> frame,
                                              const PacketLayout& layout, std::uint8_t target);

// `tcp option` (nft_exthdr_tcp_eval): needs l4proto TCP, fragoff 0, the
// header readable with 20 <= doff*4 <= 60. Walks options from byte 20 while
// i < doff*4 - 1: kinds 0 (EOL) and 1 (NOP), and options with a zero length
// byte, advance one byte (EOL does not end the walk). The first option of
// kind `kind` is returned; if it overruns the header, nullopt. A load of
// `len` bytes at `off` into it needs off + len <= length (the caller checks).
std::optional<OptionRef> find_tcp_option(std::span<const std::uint8_t> frame,
                                         const PacketLayout& layout, std::uint8_t kind);

// `ip option` (nft_exthdr_ipv4_eval, ipv4_find_option): needs protocol
// 0x0800 and the header's options readable; the options must pass
// __ip_options_compile as called without an skb (source routes with pointer
// 4 and whole addresses, record route/timestamp pointer rules, one of each,
// CIPSO rejected as no DOI is configured; other options accepted as for a
// CAP_NET_RAW context). Only RR, LSRR, SSRR and RA can be found (others are
// EOPNOTSUPP: nullopt); RA only when its value is zero. The fragment offset
// plays no part: every fragment carries the options it was sent with.
// Returns the option's absolute offset.
std::optional<std::uint32_t> find_ipv4_option(std::span<const std::uint8_t> frame,
                                              const PacketLayout& layout, std::uint8_t type);

// `sctp chunk` (nft_exthdr_sctp_eval): needs l4proto SCTP, any fragment offset.
// Walks chunks from th_off + 12, each advanced by its 4-byte-padded length,
// stopping at a zero length or an unreadable chunk header. Returns the first
// chunk of type `type` with its length field. A field load needs
// off + len <= length and offset + length <= end (the caller checks; the
// presence test does not).
std::optional<OptionRef> find_sctp_chunk(std::span<const std::uint8_t> frame,
                                         const PacketLayout& layout, std::uint8_t type);

// ipv6_skip_exthdr: from offset `at`, where a header of type `next`
// starts, past hop-by-hop, routing, fragment, AH and destination options
// headers. nullopt at "no next header" or a header cut short. A fragment
// header of a non-first fragment stops the walk on it (later_fragment).
struct Ipv6Skip {
  std::size_t at;
  std::uint8_t next;
  bool later_fragment;
};
std::optional<Ipv6Skip> ipv6_skip_exthdr(std::span<const std::uint8_t> pkt, std::size_t at, std::uint8_t next);

// The kernel's jhash (Bob Jenkins' lookup3, include/linux/jhash.h) of `len`
// bytes with `seed`; jhash2 over 32-bit words gives the same value for the
// same bytes.
std::uint32_t jhash(const std::uint8_t* data, std::size_t len, std::uint32_t seed);

// ---------------------------------------------------------------------------
// Checksums. Sums are one's complement sums of the bytes read as big-endian
// 16-bit words (a trailing odd byte is the high byte of a last word), kept in
// 32 bits with end-around carry: the values include/net/checksum.h works
// with, up to a byte swap that folding and complementing do not see.

std::uint32_t csum_partial(std::span<const std::uint8_t> bytes, std::uint32_t sum = 0);
std::uint32_t csum_add(std::uint32_t a, std::uint32_t b);
std::uint32_t csum_sub(std::uint32_t a, std::uint32_t b);
// csum_fold: the complement of the 16-bit folded sum (a checksum field value).
std::uint16_t csum_fold(std::uint32_t sum);

// Pseudo-header sums (csum_tcpudp_nofold, csum_ipv6_magic without folding).
std::uint32_t pseudo_header_sum_ipv4(const std::uint8_t saddr[4], const std::uint8_t daddr[4],
                                     std::uint8_t proto, std::uint32_t length);
std::uint32_t pseudo_header_sum_ipv6(const std::uint8_t saddr[16], const std::uint8_t daddr[16],
                                     std::uint8_t nexthdr, std::uint32_t length);

// The IPv4 header checksum of `header` (ihl*4 bytes), computed with the
// checksum field taken as zero.
std::uint16_t ipv4_header_checksum(std::span<const std::uint8_t> header);
// ip_fast_csum(iph, ihl) == 0.
bool ipv4_header_checksum_ok(std::span<const std::uint8_t> header);

// CRC32c (Castagnoli) as SCTP uses it: crc32c(~0, bytes) complemented.
std::uint32_t crc32c(std::span<const std::uint8_t> bytes);

// Offset of the checksum field in a transport header, or nullopt:
// TCP 16, UDP and UDP-Lite 6, ICMP and ICMPv6 2, SCTP 8.
std::optional<std::uint32_t> transport_checksum_offset(std::uint8_t l4proto);

// Full computation over the transport data of an IPv4/IPv6 packet whose
// layout has l4_valid and fragoff 0, from th_off to nh_off + l3_len: the
// pseudo-header length is that byte count (as nf_ip_checksum uses it).
// TCP, UDP, ICMPv6 with the pseudo header; ICMP without; UDP-Lite with the
// pseudo header and its coverage (length field; 0 = all); UDP and UDP-Lite
// give 0xffff for a result of 0 (CSUM_MANGLED_0). The field itself counts as
// zero. For SCTP the value is crc32c over the same range, to be stored
// little-endian. nullopt for other protocols or unreadable data.
std::optional<std::uint32_t> compute_transport_checksum(std::span<const std::uint8_t> frame,
                                                        const PacketLayout& layout);
// Writes compute_transport_checksum into the frame. False if not computable.
bool fill_transport_checksum(std::span<std::uint8_t> frame, const PacketLayout& layout);
// Whether the stored transport checksum is right. A zero UDP checksum over
// IPv4 means "none" and is right; over IPv6 it is not.
bool transport_checksum_ok(std::span<const std::uint8_t> frame, const PacketLayout& layout);
// Writes the IPv4 header checksum (layout needs protocol 0x0800 and a
// readable header of ihl*4 bytes).
bool fill_ipv4_header_checksum(std::span<std::uint8_t> frame, const PacketLayout& layout);

// Incremental update (RFC 1624 eqn. 3, csum_replace*): the checksum `check`
// after data summing to `from` was replaced by data summing to `to`.
std::uint16_t csum_replace(std::uint16_t check, std::uint32_t from, std::uint32_t to);

// What a result of 0 becomes. Mangle stores 0xffff (CSUM_MANGLED_0) as
// nft_csum_replace does for every payload-set checksum, and as NAT does for
// UDP; Keep is csum_replace2/4 and inet_proto_csum_replace* (TCP NAT, TCP
// option rewrites).
enum class ZeroResult : std::uint8_t { Keep, Mangle };

// Updates the 16-bit checksum at frame[csum_off] for the bytes `from` being
// replaced by `to` (equal lengths). As in the kernel the region is summed on
// its own, so it must start at an even offset from the start of the
// checksummed data for the result to be right (nft writes whole 16-bit
// words for that reason). False if the field is past the frame or the
// lengths differ.
bool csum_update(std::span<std::uint8_t> frame, std::size_t csum_off,
                 std::span<const std::uint8_t> from, std::span<const std::uint8_t> to,
                 ZeroResult zero);

// nft_payload_l4csum_update: after a pseudo-header field (an address)
// changed from `from` to `to`, updates the transport checksum: TCP, UDP,
// UDP-Lite and ICMPv6, with ZeroResult::Mangle. Nothing to do (true) for a
// non-first fragment, a UDP checksum of zero ("none" stays none), a UDP
// header that cannot be read, or other protocols (ICMP and SCTP have no
// pseudo header). False where the kernel breaks: the field is unreadable.
bool l4_csum_update_pseudo(std::span<std::uint8_t> frame, const PacketLayout& layout,
                           std::span<const std::uint8_t> from, std::span<const std::uint8_t> to);

// nft_payload_csum_sctp: recomputes the SCTP crc32c over th_off..end after
// a payload set (only for l4proto SCTP and fragoff 0; true otherwise, as
// nothing is done). False if the 12-byte SCTP header does not fit.
bool sctp_checksum_recompute(std::span<std::uint8_t> frame, const PacketLayout& layout);

// ---------------------------------------------------------------------------
// Reject replies: what the kernel's reject statement sends back
// (net/ipv4/netfilter/nf_reject_ipv4.c, net/ipv6/netfilter/nf_reject_ipv6.c,
// and for the routed families icmp_send / icmp6_send). reject_ipv4.cc,
// reject_ipv6.cc.
//
// `pkt` is the packet from its network header to the skb's end: skb->len
// bytes. The IP stack trimmed it to the IP length (ip, ip6 and inet chains
// from prerouting on); bridge, netdev and inet ingress chains see the rest
// of the frame, Ethernet padding included, and the kernel computes lengths,
// checksums and the quoted data from that. The builders return the reply's
// IP packet (no link-layer header), or nullopt where the kernel sends
// nothing; they never read outside `pkt`.

// Which kernel code makes the reply.
enum class RejectVia : std::uint8_t {
  // ip, ip6 and inet tables: nf_send_reset / nf_send_reset6, and
  // nf_send_unreach / nf_send_unreach6 through icmp_send / icmp6_send. The
  // reply is routed and sent through the output path.
  Stack,
  // bridge and netdev tables: nf_reject_skb_v4_* / nf_reject_skb_v6_*,
  // which build the whole reply for the input device.
  Device,
};

// What the IP stack knows about the packet that the Stack builders use.
struct RejectRoute {
  // skb->pkt_type == PACKET_HOST: icmp_send and icmp6_send answer nothing
  // else (broadcast and multicast MAC destinations).
  bool pkt_host = true;
  // IPv4: the route has RTCF_BROADCAST or RTCF_MULTICAST (the destination,
  // or at prerouting, where the kernel routes towards the source, the
  // source). No RST and no ICMP error then.
  bool bcast_mcast = false;
  // The ICMP error's source address (4 bytes for IPv4): the original
  // destination when it is the host's own, otherwise the address the
  // kernel selects for the route back (RTCF_LOCAL / ipv6_chk_addr, else
  // inet_select_addr / ipv6_dev_get_saddr).
  std::uint8_t icmp_saddr[16] = {};
};

// Codes of the abstract `icmpx` reject for each family (nft_reject_icmp_code,
// nft_reject_icmpv6_code): no-route, port-unreachable, host-unreachable,
// admin-prohibited. Codes above 3 (the kernel refuses them at load) map to
// no-route as the kernel's fallback does.
std::uint8_t reject_icmpx_code_v4(std::uint8_t icmpx);
std::uint8_t reject_icmpx_code_v6(std::uint8_t icmpx);

// nf_ip_checksum / nf_ip6_checksum on a packet without checksum offload
// state: true when the transport checksum from `dataoff` to the end of `pkt`
// is right (IPv4: the sum runs from the IP header, which a valid header
// checksum makes neutral, with a pseudo header for TCP and UDP only; IPv6:
// the pseudo header for every protocol).
bool nf_ip_checksum_ok(std::span<const std::uint8_t> pkt, std::uint32_t dataoff, std::uint8_t proto);
bool nf_ip6_checksum_ok(std::span<const std::uint8_t> pkt, std::uint32_t dataoff, std::uint8_t proto);
// nf_reject_verify_csum: whether the reject checks the checksum of `proto`
// first (UDP with a zero checksum, GRE, AH, ESP, SCTP and UDP-Lite
// are not checked).
bool nf_reject_verify_csum(std::span<const std::uint8_t> pkt, std::uint32_t dataoff, std::uint8_t proto);

// TCP reset (nf_reject_ip_tcphdr_get / nf_reject_ip_tcphdr_put): nothing for
// a non-first fragment, a non-TCP packet, an unreadable TCP header, a RST,
// or a bad TCP checksum; otherwise a 40-byte packet from the original
// destination, TTL 64, id 0, DF, with the ports swapped and either seq = the
// original's ack_seq (ACK set) or ack_seq = its seq + SYN + FIN + payload
// length (skb->len based) with ACK.
std::optional<std::vector<std::uint8_t>> reject_ipv4_tcp_reset(std::span<const std::uint8_t> pkt, RejectVia via,
                                                               const RejectRoute& route);
// ICMP destination unreachable with `code`. Device (nf_reject_skb_v4_unreach):
// from the original destination, TTL 64, id 0, DF, quoting
// min(536, skb->len) bytes; nothing for a non-first fragment, an ICMP
// destination unreachable (its type read after the whole IP header), or a
// bad checksum. Stack (nf_send_unreach, icmp_send):
// from route.icmp_saddr, TTL 64, no DF, TOS = the original's TOS bits with
// precedence 6, quoting up to 548 bytes; nothing also for a packet not to
// this host's MAC, a broadcast or multicast route, or an ICMP error (or
// unknown ICMP type). The id is 0 here; the kernel's is from its IP id
// generator.
std::optional<std::vector<std::uint8_t>> reject_ipv4_unreach(std::span<const std::uint8_t> pkt, std::uint8_t code,
                                                             RejectVia via, const RejectRoute& route);
// TCP reset over IPv6 (nf_reject_ip6_tcphdr_get / _put, nf_send_reset6):
// hop limit 64, traffic class and flow label 0. Stack: nothing unless both
// addresses are unicast.
std::optional<std::vector<std::uint8_t>> reject_ipv6_tcp_reset(std::span<const std::uint8_t> pkt, RejectVia via,
                                                               const RejectRoute& route);
// ICMPv6 destination unreachable with `code`, hop limit 64. Device
// (nf_reject_skb_v6_unreach): from the original destination, quoting
// min(1220, skb->len) bytes; nothing for an ICMPv6 destination unreachable.
// Stack (nf_send_unreach6, icmp6_send): from route.icmp_saddr, quoting up to
// 1232 bytes; nothing also for a multicast destination or a packet not to
// this host's MAC, an unspecified or multicast source, or an ICMPv6 error.
// Both: nothing for a non-first fragment or a bad checksum. Traffic class
// and flow label 0 (icmp6_send's errors get no automatic flow label: measured).
std::optional<std::vector<std::uint8_t>> reject_ipv6_unreach(std::span<const std::uint8_t> pkt, std::uint8_t code,
                                                             RejectVia via, const RejectRoute& route);

// icmp_send / icmp6_send on their own: the ICMP (ICMPv6) error of `type`
// and `code` the IP stack sends about `pkt` from route.icmp_saddr (the
// forwarding path's time exceeded, and the Stack unreachables above, which
// check the transport checksum first). Nothing for a non-first IPv4
// fragment, a packet not to this host's MAC, a broadcast or multicast
// route or destination, an ICMP error, or an unspecified or multicast IPv6
// source.
// `info` fills the 4 bytes after the checksum (fragmentation needed: the
// next hop's MTU in the low 16 bits; a parameter problem: its pointer).
std::optional<std::vector<std::uint8_t>> icmp_send_v4(std::span<const std::uint8_t> pkt, std::uint8_t type,
                                                      std::uint8_t code, const RejectRoute& route,
                                                      std::uint32_t info = 0);
std::optional<std::vector<std::uint8_t>> icmp_send_v6(std::span<const std::uint8_t> pkt, std::uint8_t type,
                                                      std::uint8_t code, const RejectRoute& route,
                                                      std::uint32_t info = 0);

}  // namespace nfx::packet
