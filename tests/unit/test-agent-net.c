/* The agent's rtnetlink requests (byte by byte, as the kernel reads them),
 * the acks it reads back, and its address text. */
#include "agent.h"
#include "agent-linux.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "tap.h"

static const struct ag_nlmsghdr *
hdr (const struct ag_nlmsg *m)
{
  return (const struct ag_nlmsghdr *)m->buf;
}

/* The value of attribute type after the family header of famlen bytes, its
 * length in *len; NULL if absent. Also checks the attributes fill the
 * message exactly. */
static const uint8_t *
attr (const struct ag_nlmsg *m, size_t famlen, uint16_t type, size_t *len)
{
  size_t off = sizeof (struct ag_nlmsghdr) + famlen;
  const uint8_t *found = NULL;
  while (off + sizeof (struct ag_rtattr) <= m->len)
    {
      struct ag_rtattr a;
      memcpy (&a, m->buf + off, sizeof a);
      if (a.rta_len < sizeof a || off + a.rta_len > m->len)
        return NULL;
      if (a.rta_type == type && found == NULL)
        {
          found = m->buf + off + sizeof a;
          *len = a.rta_len - sizeof a;
        }
      off += AG_NL_ALIGN (a.rta_len);
    }
  return off == m->len ? found : NULL;
}

static bool
attr_is (const struct ag_nlmsg *m, size_t famlen, uint16_t type,
         const void *want, size_t n)
{
  size_t len;
  const uint8_t *v = attr (m, famlen, type, &len);
  return v && len == n && memcmp (v, want, n) == 0;
}

static bool
has_attr (const struct ag_nlmsg *m, size_t famlen, uint16_t type)
{
  size_t len;
  return attr (m, famlen, type, &len) != NULL;
}

static void
test_link (void)
{
  struct ag_nlmsg m;
  struct ag_ifinfomsg ifi;
  ag_nl_link_updown (&m, 7, true);
  memcpy (&ifi, m.buf + sizeof (struct ag_nlmsghdr), sizeof ifi);
  is_int (hdr (&m)->nlmsg_type, AG_RTM_NEWLINK, "link up: RTM_NEWLINK");
  is_int (hdr (&m)->nlmsg_flags, AG_NLM_F_REQUEST | AG_NLM_F_ACK,
          "link up: a request, acked");
  is_int (hdr (&m)->nlmsg_len, 32, "link up: header and ifinfomsg");
  is_int (m.len, 32, "link up: len");
  ok (ifi.ifi_index == 7 && ifi.ifi_flags == IFF_UP && ifi.ifi_change == IFF_UP,
      "link up: IFF_UP of index 7 set");
  ag_nl_link_updown (&m, 7, false);
  memcpy (&ifi, m.buf + sizeof (struct ag_nlmsghdr), sizeof ifi);
  ok (ifi.ifi_flags == 0 && ifi.ifi_change == IFF_UP,
      "link down: IFF_UP cleared, nothing else changed");

  uint32_t mtu = 1450;
  is_int (ag_nl_link_set (&m, 3, "eth0", 0), 0, "rename: built");
  ok (attr_is (&m, sizeof ifi, AG_IFLA_IFNAME, "eth0", 5),
      "rename: IFLA_IFNAME with its NUL");
  ok (!has_attr (&m, sizeof ifi, AG_IFLA_MTU), "rename: no MTU");
  memcpy (&ifi, m.buf + sizeof (struct ag_nlmsghdr), sizeof ifi);
  ok (ifi.ifi_index == 3 && ifi.ifi_change == 0,
      "rename: index 3, flags unchanged");
  is_int (ag_nl_link_set (&m, 3, NULL, mtu), 0, "MTU: built");
  ok (attr_is (&m, sizeof ifi, AG_IFLA_MTU, &mtu, 4), "MTU: IFLA_MTU u32");
  ok (!has_attr (&m, sizeof ifi, AG_IFLA_IFNAME), "MTU: no name");
  is_int (ag_nl_link_set (&m, 3, "abcdefghijklmno", mtu), 0,
          "rename: 15 characters fit");
  is_int (hdr (&m)->nlmsg_len, 16 + 16 + 20 + 8, "rename: length aligned");
  is_int (ag_nl_link_set (&m, 3, "abcdefghijklmnop", 0), -1,
          "rename: 16 characters refused");
}

static struct ko_net_addr
v4 (uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint32_t prefix)
{
  return (struct ko_net_addr){ AF_INET, { a, b, c, d }, prefix };
}

static void
test_addr (void)
{
  struct ag_nlmsg m;
  struct ag_ifaddrmsg ifa;
  size_t fl = sizeof ifa;
  struct ko_net_addr a = v4 (10, 88, 0, 5, 16);
  is_int (ag_nl_addr (&m, 2, &a), 0, "IPv4 /16: built");
  is_int (hdr (&m)->nlmsg_type, AG_RTM_NEWADDR, "IPv4: RTM_NEWADDR");
  is_int (hdr (&m)->nlmsg_flags,
          AG_NLM_F_REQUEST | AG_NLM_F_ACK | AG_NLM_F_CREATE | AG_NLM_F_EXCL,
          "IPv4: create, exclusive");
  memcpy (&ifa, m.buf + sizeof (struct ag_nlmsghdr), sizeof ifa);
  ok (ifa.ifa_family == AF_INET && ifa.ifa_prefixlen == 16
          && ifa.ifa_index == 2,
      "IPv4: family, prefix, index");
  ok (attr_is (&m, fl, AG_IFA_LOCAL, a.addr, 4)
          && attr_is (&m, fl, AG_IFA_ADDRESS, a.addr, 4),
      "IPv4: IFA_LOCAL and IFA_ADDRESS");
  ok (attr_is (&m, fl, AG_IFA_BROADCAST, (uint8_t[]){ 10, 88, 255, 255 }, 4),
      "IPv4 /16: broadcast 10.88.255.255");
  ok (!has_attr (&m, fl, AG_IFA_FLAGS), "IPv4: DAD flags are IPv6's");

  a = v4 (192, 168, 7, 130, 26);
  ag_nl_addr (&m, 2, &a);
  ok (attr_is (&m, fl, AG_IFA_BROADCAST, (uint8_t[]){ 192, 168, 7, 191 }, 4),
      "IPv4 /26: broadcast inside the last byte");
  a = v4 (10, 1, 2, 3, 20);
  ag_nl_addr (&m, 2, &a);
  ok (attr_is (&m, fl, AG_IFA_BROADCAST, (uint8_t[]){ 10, 1, 15, 255 }, 4),
      "IPv4 /20: broadcast across bytes");
  a = v4 (10, 1, 2, 3, 0);
  ag_nl_addr (&m, 2, &a);
  ok (attr_is (&m, fl, AG_IFA_BROADCAST, (uint8_t[]){ 255, 255, 255, 255 }, 4),
      "IPv4 /0: all ones");
  a = v4 (10, 1, 2, 1, 30);
  ag_nl_addr (&m, 2, &a);
  ok (attr_is (&m, fl, AG_IFA_BROADCAST, (uint8_t[]){ 10, 1, 2, 3 }, 4),
      "IPv4 /30: broadcast");
  a = v4 (10, 1, 2, 2, 31);
  ag_nl_addr (&m, 2, &a);
  ok (!has_attr (&m, fl, AG_IFA_BROADCAST) && has_attr (&m, fl, AG_IFA_LOCAL),
      "IPv4 /31: no broadcast (RFC 3021)");
  a = v4 (10, 1, 2, 2, 32);
  ag_nl_addr (&m, 2, &a);
  ok (!has_attr (&m, fl, AG_IFA_BROADCAST), "IPv4 /32: no broadcast");
  a = v4 (10, 1, 2, 2, 33);
  is_int (ag_nl_addr (&m, 2, &a), -1, "IPv4 /33 refused");

  struct ko_net_addr b
      = { AF_INET6, { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5 }, 64 };
  uint32_t nodad = AG_IFA_F_NODAD;
  is_int (ag_nl_addr (&m, 4, &b), 0, "IPv6 /64: built");
  memcpy (&ifa, m.buf + sizeof (struct ag_nlmsghdr), sizeof ifa);
  ok (ifa.ifa_family == AF_INET6 && ifa.ifa_prefixlen == 64,
      "IPv6: family, prefix");
  ok (attr_is (&m, fl, AG_IFA_ADDRESS, b.addr, 16),
      "IPv6: IFA_ADDRESS, 16 bytes");
  ok (attr_is (&m, fl, AG_IFA_FLAGS, &nodad, 4), "IPv6: IFA_F_NODAD");
  ok (!has_attr (&m, fl, AG_IFA_LOCAL) && !has_attr (&m, fl, AG_IFA_BROADCAST),
      "IPv6: no IFA_LOCAL, no broadcast");
  b.prefix = 129;
  is_int (ag_nl_addr (&m, 4, &b), -1, "IPv6 /129 refused");
  b.family = 99;
  b.prefix = 8;
  is_int (ag_nl_addr (&m, 4, &b), -1, "unknown family refused");
}

static void
test_route (void)
{
  struct ag_nlmsg m;
  struct ag_rtmsg rt;
  size_t fl = sizeof rt;
  uint32_t oif = 2;
  struct ko_net_route r = {
    .family = AF_INET, .has_gw = true, .gw = { 10, 88, 0, 1 }, .dev = "eth0"
  };
  is_int (ag_nl_route (&m, 2, &r), 0, "default route: built");
  is_int (hdr (&m)->nlmsg_type, AG_RTM_NEWROUTE, "route: RTM_NEWROUTE");
  is_int (hdr (&m)->nlmsg_flags,
          AG_NLM_F_REQUEST | AG_NLM_F_ACK | AG_NLM_F_CREATE | AG_NLM_F_EXCL,
          "route: create, exclusive");
  memcpy (&rt, m.buf + sizeof (struct ag_nlmsghdr), sizeof rt);
  ok (rt.rtm_family == AF_INET && rt.rtm_dst_len == 0
          && rt.rtm_table == AG_RT_TABLE_MAIN
          && rt.rtm_protocol == AG_RTPROT_BOOT
          && rt.rtm_scope == AG_RT_SCOPE_UNIVERSE
          && rt.rtm_type == AG_RTN_UNICAST,
      "default route: main table, boot, universe, unicast");
  ok (!has_attr (&m, fl, AG_RTA_DST), "default route: no RTA_DST");
  ok (attr_is (&m, fl, AG_RTA_GATEWAY, r.gw, 4), "route: RTA_GATEWAY");
  ok (attr_is (&m, fl, AG_RTA_OIF, &oif, 4), "route: RTA_OIF");

  r = (struct ko_net_route){
    .family = AF_INET, .dst = { 10 }, .dst_len = 8, .dev = "eth0"
  };
  ag_nl_route (&m, 2, &r);
  memcpy (&rt, m.buf + sizeof (struct ag_nlmsghdr), sizeof rt);
  ok (rt.rtm_dst_len == 8 && rt.rtm_scope == AG_RT_SCOPE_LINK,
      "on-link route: prefix, scope link");
  ok (attr_is (&m, fl, AG_RTA_DST, r.dst, 4), "on-link route: RTA_DST");
  ok (!has_attr (&m, fl, AG_RTA_GATEWAY), "on-link route: no gateway");

  r = (struct ko_net_route){ .family = AF_INET6,
                             .dst = { 0xfd, 1 },
                             .dst_len = 128,
                             .has_gw = true,
                             .gw = { 0xfe, 0x80, [15] = 1 },
                             .dev = "eth0" };
  is_int (ag_nl_route (&m, 2, &r), 0, "IPv6 route with gateway: fits");
  ok (attr_is (&m, fl, AG_RTA_DST, r.dst, 16)
          && attr_is (&m, fl, AG_RTA_GATEWAY, r.gw, 16),
      "IPv6 route: 16-byte destination and gateway");
  r.dst_len = 129;
  is_int (ag_nl_route (&m, 2, &r), -1, "IPv6 /129 refused");
  r.family = 0;
  r.dst_len = 0;
  is_int (ag_nl_route (&m, 2, &r), -1, "no family refused");
}

/* An NLMSG_ERROR datagram for seq into buf: error, flags, the echoed
 * request of echo bytes (a header claiming that length), then the
 * extended-ack message text if any. Returns its length. */
static size_t
make_ack (uint8_t *buf, uint32_t seq, int error, uint16_t flags, size_t echo,
          const char *text)
{
  struct ag_nlmsghdr h = { .nlmsg_type = AG_NLMSG_ERROR,
                           .nlmsg_flags = flags,
                           .nlmsg_seq = seq };
  struct ag_nlmsgerr e
      = { .error = error,
          .msg = { .nlmsg_len = sizeof e.msg + echo, .nlmsg_seq = seq } };
  size_t n = sizeof h;
  memcpy (buf + n, &e, sizeof e);
  n += sizeof e;
  memset (buf + n, 0xee, echo);
  n += AG_NL_ALIGN (echo);
  if (text)
    {
      struct ag_rtattr a = { .rta_len = sizeof a + strlen (text) + 1,
                             .rta_type = AG_NLMSGERR_ATTR_MSG };
      memcpy (buf + n, &a, sizeof a);
      strcpy ((char *)buf + n + sizeof a, text);
      n += AG_NL_ALIGN (a.rta_len);
    }
  h.nlmsg_len = n;
  memcpy (buf, &h, sizeof h);
  return n;
}

static void
test_ack (void)
{
  _Alignas(4) uint8_t buf[512];
  char msg[64];
  int error = -1;
  size_t n = make_ack (buf, 5, 0, AG_NLM_F_CAPPED, 0, NULL);
  is_int (ag_nl_ack (buf, n, 5, &error, msg, sizeof msg), 1, "ack: found");
  is_int (error, 0, "ack: success");
  is_str (msg, "", "ack: no reason");
  is_int (ag_nl_ack (buf, n, 6, &error, msg, sizeof msg), 0,
          "ack: another request's is skipped");

  n = make_ack (buf, 7, -EEXIST, AG_NLM_F_CAPPED, 0, NULL);
  ag_nl_ack (buf, n, 7, &error, msg, sizeof msg);
  is_int (error, EEXIST, "error: the errno, positive");

  n = make_ack (buf, 8, -EINVAL, AG_NLM_F_CAPPED | AG_NLM_F_ACK_TLVS, 0,
                "Invalid prefix for given prefix length");
  ag_nl_ack (buf, n, 8, &error, msg, sizeof msg);
  ok (error == EINVAL
          && strcmp (msg, "Invalid prefix for given prefix length") == 0,
      "extended ack, capped: the kernel's reason");
  n = make_ack (buf, 9, -ENETUNREACH, AG_NLM_F_ACK_TLVS, 44,
                "Nexthop has invalid gateway");
  ag_nl_ack (buf, n, 9, &error, msg, sizeof msg);
  ok (error == ENETUNREACH && strcmp (msg, "Nexthop has invalid gateway") == 0,
      "extended ack after the echoed request");
  ag_nl_ack (buf, n, 9, &error, msg, 8);
  is_str (msg, "Nexthop", "extended ack: the reason cut to the buffer");
  n = make_ack (buf, 10, -EINVAL, 0, 44, NULL);
  ag_nl_ack (buf, n, 10, &error, msg, sizeof msg);
  ok (error == EINVAL && msg[0] == '\0', "plain ack with the request echoed");

  /* two messages in one datagram: the ack is the second */
  size_t k = make_ack (buf, 1, 0, AG_NLM_F_CAPPED, 0, NULL);
  n = k + make_ack (buf + k, 11, -EPERM, AG_NLM_F_CAPPED, 0, NULL);
  is_int (ag_nl_ack (buf, n, 11, &error, msg, sizeof msg), 1,
          "second message found");
  is_int (error, EPERM, "second message: its errno");

  n = make_ack (buf, 12, -EINVAL, AG_NLM_F_CAPPED, 0, NULL);
  is_int (ag_nl_ack (buf, n - 4, 12, &error, msg, sizeof msg), -1,
          "truncated datagram: malformed");
  is_int (ag_nl_ack (buf, 10, 12, &error, msg, sizeof msg), 0,
          "shorter than a header: nothing");
  n = make_ack (buf, 13, 5, AG_NLM_F_CAPPED, 0, NULL);
  is_int (ag_nl_ack (buf, n, 13, &error, msg, sizeof msg), -1,
          "positive error: malformed");
  /* an attribute that claims more than the message holds */
  n = make_ack (buf, 14, -EINVAL, AG_NLM_F_CAPPED | AG_NLM_F_ACK_TLVS, 0, "x");
  buf[n - 8] = 200;
  is_int (ag_nl_ack (buf, n, 14, &error, msg, sizeof msg), 1,
          "bad attribute: the ack still read");
  ok (error == EINVAL && msg[0] == '\0', "bad attribute: no reason");
  /* an echoed request longer than the ack */
  n = make_ack (buf, 15, -EINVAL, AG_NLM_F_ACK_TLVS, 0, "x");
  ((struct ag_nlmsgerr *)(buf + sizeof (struct ag_nlmsghdr)))->msg.nlmsg_len
      = 4000;
  is_int (ag_nl_ack (buf, n, 15, &error, msg, sizeof msg), 1,
          "bad echo length: the ack still read");
  is_str (msg, "", "bad echo length: no reason");
}

static void
addr_is (uint32_t family, const uint8_t *a, const char *want)
{
  char buf[AG_ADDR_STRLEN];
  ag_addr_format (family, a, buf);
  is_str (buf, want, "address text %s", want);
}

static void
test_addr_format (void)
{
  addr_is (AF_INET, (uint8_t[]){ 10, 88, 0, 5 }, "10.88.0.5");
  addr_is (AF_INET, (uint8_t[]){ 255, 255, 255, 255 }, "255.255.255.255");
  addr_is (AF_INET6, (uint8_t[16]){ 0 }, "::");
  addr_is (AF_INET6, (uint8_t[16]){ [15] = 1 }, "::1");
  addr_is (AF_INET6, (uint8_t[16]){ 0xfe, 0x80, [15] = 1 }, "fe80::1");
  addr_is (AF_INET6, (uint8_t[16]){ 0xfe, 0x80 }, "fe80::");
  addr_is (AF_INET6, (uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, [9] = 1, [15] = 1 },
           "2001:db8::1:0:0:1");
  addr_is (AF_INET6,
           (uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1,
                          0, 1 },
           "2001:db8:0:1:1:1:1:1");
  addr_is (AF_INET6, (uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, [7] = 1, [15] = 1 },
           "2001:db8:0:1::1");
  addr_is (AF_INET6,
           (uint8_t[16]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
           "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  addr_is (7, (uint8_t[16]){ 0 }, "?");
}

int
main (void)
{
  test_link ();
  test_addr ();
  test_route ();
  test_ack ();
  test_addr_format ();
  return tap_done ();
}
