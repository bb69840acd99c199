/**
 * Numbers the decoders dispatch on: LINKTYPE_* values of pcap/pcapng (https://www.tcpdump.org/linktypes.html),
 * EtherTypes, IP protocol numbers and the UDP ports of the tunnels we open.
 */

export const LinkType = {
  /** BSD loopback: 4-byte address family in the capturing host's byte order. */
  Null: 0,
  Ethernet: 1,
  /** DLT_RAW as written by some systems (libpcap maps both to LINKTYPE_RAW). */
  RawBsd12: 12,
  RawBsd14: 14,
  Raw: 101,
  /** OpenBSD loopback: like Null but the family is in network byte order. */
  Loop: 108,
  LinuxSll: 113,
  Ipv4: 228,
  Ipv6: 229,
  LinuxSll2: 276,
} as const;

export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  WakeOnLan: 0x0842,
  /** Transparent Ethernet bridging (GRE, Geneve). */
  TransEther: 0x6558,
  Rarp: 0x8035,
  Vlan: 0x8100,
  Ipv6: 0x86dd,
  Slow: 0x8809,
  Mpls: 0x8847,
  MplsMulticast: 0x8848,
  PppoeDiscovery: 0x8863,
  PppoeSession: 0x8864,
  Eapol: 0x888e,
  QinQ: 0x88a8,
  ErspanII: 0x88be,
  Lldp: 0x88cc,
  Ptp: 0x88f7,
  FabricPath: 0x8903,
  QinQOld: 0x9100,
  QinQOld2: 0x9200,
  ErspanIII: 0x22eb,
  /** PPTP's enhanced GRE carries PPP. */
  Ppp: 0x880b,
} as const;

export const IpProto = {
  HopByHop: 0,
  Icmp: 1,
  Igmp: 2,
  IpInIp: 4,
  Tcp: 6,
  Udp: 17,
  Ipv6: 41,
  Ipv6Routing: 43,
  Ipv6Fragment: 44,
  Gre: 47,
  Esp: 50,
  Ah: 51,
  Icmpv6: 58,
  Ipv6NoNext: 59,
  Ipv6DestOpts: 60,
  Ospf: 89,
  Pim: 103,
  Vrrp: 112,
  Sctp: 132,
} as const;

export const UdpPort = {
  GtpU: 2152,
  Teredo: 3544,
  Vxlan: 4789,
  Geneve: 6081,
} as const;

/** BSD address families found in NULL / LOOP headers (AF_INET6 differs between the BSDs). */
export const BsdFamily = {
  Inet: 2,
  Inet6Bsd: 24,
  Inet6FreeBsd: 28,
  Inet6Darwin: 30,
} as const;

/**
 * Keys of DecodeStats.notTcpByKind. A fixed set, so that hostile input cannot grow the map: every frame that is
 * well formed but carries no TCP is counted under one of these.
 */
export const NotTcpKind = {
  Arp: 'arp',
  Rarp: 'rarp',
  Lldp: 'lldp',
  /** 802.3 frames with an LLC header (spanning tree, CDP, …). */
  Llc: 'llc',
  /** LACP / marker (slow protocols). */
  Slow: 'slow-protocols',
  Eapol: 'eapol',
  Ptp: 'ptp',
  PppoeDiscovery: 'pppoe-discovery',
  /** Any other EtherType. */
  EtherOther: 'ethertype-other',
  /** A link-layer header whose protocol we do not open (SLL netlink, NULL with an unknown family, …). */
  LinkOther: 'link-other',
  Udp: 'udp',
  Icmp: 'icmp',
  Icmpv6: 'icmpv6',
  Igmp: 'igmp',
  Sctp: 'sctp',
  Esp: 'esp',
  Ipv4Other: 'ipv4-other',
  Ipv6Other: 'ipv6-other',
  /** MPLS payload that is neither IP nor an Ethernet pseudowire. */
  MplsOther: 'mpls-other',
  /** PPP payload other than IPv4/IPv6 (LCP, IPCP, compressed data, …). */
  PppOther: 'ppp-other',
  /** GRE payload we do not open (keepalives, routing present, unknown protocol). */
  GreOther: 'gre-other',
} as const;
export type NotTcpKind = (typeof NotTcpKind)[keyof typeof NotTcpKind];
