/* rtnetlink requests and their acks, built and read in fixed buffers. No
 * I/O here (net.c sends them), so the unit tests run this on the host. */
#include "agent.h"
#include "agent-linux.h"

#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static struct ag_nlmsghdr *
nl_hdr (struct ag_nlmsg *m)
{
  return (struct ag_nlmsghdr *)m->buf;
}

static void
nl_begin (struct ag_nlmsg *m, uint16_t type, uint16_t flags, const void *fam,
          size_t famlen)
{
  memset (m->buf, 0, sizeof m->buf);
  struct ag_nlmsghdr *h = nl_hdr (m);
  h->nlmsg_type = type;
  h->nlmsg_flags = AG_NLM_F_REQUEST | AG_NLM_F_ACK | flags;
  memcpy (m->buf + sizeof *h, fam, famlen);
  m->len = sizeof *h + AG_NL_ALIGN (famlen);
  h->nlmsg_len = m->len;
}

static int
nl_put (struct ag_nlmsg *m, uint16_t type, const void *p, size_t n)
{
  struct ag_rtattr a = { .rta_type = type };
  if (n > sizeof m->buf - sizeof a
      || AG_NL_ALIGN (sizeof a + n) > sizeof m->buf - m->len)
    return -1;
  a.rta_len = sizeof a + n;
  memcpy (m->buf + m->len, &a, sizeof a);
  memcpy (m->buf + m->len + sizeof a, p, n);
  m->len += AG_NL_ALIGN (sizeof a + n);
  nl_hdr (m)->nlmsg_len = m->len;
  return 0;
}

static size_t
family_len (uint32_t family)
{
  return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

void
ag_nl_link_updown (struct ag_nlmsg *m, int index, bool up)
{
  struct ag_ifinfomsg ifi = { .ifi_index = index,
                              .ifi_flags = up ? IFF_UP : 0,
                              .ifi_change = IFF_UP };
  nl_begin (m, AG_RTM_NEWLINK, 0, &ifi, sizeof ifi);
}

int
ag_nl_link_set (struct ag_nlmsg *m, int index, const char *name, uint32_t mtu)
{
  struct ag_ifinfomsg ifi = { .ifi_index = index };
  nl_begin (m, AG_RTM_NEWLINK, 0, &ifi, sizeof ifi);
  if (name
      && (strnlen (name, KO_IFNAMSIZ) == KO_IFNAMSIZ
          || nl_put (m, AG_IFLA_IFNAME, name, strlen (name) + 1) < 0))
    return -1;
  if (mtu && nl_put (m, AG_IFLA_MTU, &mtu, sizeof mtu) < 0)
    return -1;
  return 0;
}

int
ag_nl_addr (struct ag_nlmsg *m, int index, const struct ko_net_addr *a)
{
  size_t n = family_len (a->family);
  if (n == 0 || a->prefix > n * 8)
    return -1;
  struct ag_ifaddrmsg ifa = { .ifa_family = a->family,
                              .ifa_prefixlen = a->prefix,
                              .ifa_scope = AG_RT_SCOPE_UNIVERSE,
                              .ifa_index = index };
  nl_begin (m, AG_RTM_NEWADDR, AG_NLM_F_CREATE | AG_NLM_F_EXCL, &ifa,
            sizeof ifa);
  if (a->family == AF_INET6)
    {
      uint32_t flags = AG_IFA_F_NODAD;
      return nl_put (m, AG_IFA_ADDRESS, a->addr, n)
                     | nl_put (m, AG_IFA_FLAGS, &flags, sizeof flags)
                 ? -1
                 : 0;
    }
  int r = nl_put (m, AG_IFA_LOCAL, a->addr, n)
          | nl_put (m, AG_IFA_ADDRESS, a->addr, n);
  /* /31 (RFC 3021) and /32 have no broadcast address */
  if (a->prefix < 31)
    {
      uint8_t b[4];
      for (int k = 0; k < 4; k++)
        {
          int net_bits = (int)a->prefix - 8 * k;
          uint8_t host = net_bits >= 8   ? 0
                         : net_bits <= 0 ? 0xff
                                         : 0xff >> net_bits;
          b[k] = a->addr[k] | host;
        }
      r |= nl_put (m, AG_IFA_BROADCAST, b, sizeof b);
    }
  return r ? -1 : 0;
}

int
ag_nl_route (struct ag_nlmsg *m, int oif, const struct ko_net_route *r)
{
  size_t n = family_len (r->family);
  if (n == 0 || r->dst_len > n * 8)
    return -1;
  struct ag_rtmsg rt
      = { .rtm_family = r->family,
          .rtm_dst_len = r->dst_len,
          .rtm_table = AG_RT_TABLE_MAIN,
          .rtm_protocol = AG_RTPROT_BOOT,
          .rtm_scope = r->has_gw ? AG_RT_SCOPE_UNIVERSE : AG_RT_SCOPE_LINK,
          .rtm_type = AG_RTN_UNICAST };
  nl_begin (m, AG_RTM_NEWROUTE, AG_NLM_F_CREATE | AG_NLM_F_EXCL, &rt,
            sizeof rt);
  uint32_t o = (uint32_t)oif;
  int e = 0;
  if (r->dst_len > 0)
    e |= nl_put (m, AG_RTA_DST, r->dst, n);
  if (r->has_gw)
    e |= nl_put (m, AG_RTA_GATEWAY, r->gw, n);
  e |= nl_put (m, AG_RTA_OIF, &o, sizeof o);
  return e ? -1 : 0;
}

/* The NLMSGERR_ATTR_MSG string among the attributes of an extended ack. */
static void
ack_msg (const uint8_t *p, size_t n, char *msg, size_t msglen)
{
  struct ag_rtattr a;
  while (n >= sizeof a)
    {
      memcpy (&a, p, sizeof a);
      if (a.rta_len < sizeof a || a.rta_len > n)
        return;
      if ((a.rta_type & 0x3fff) == AG_NLMSGERR_ATTR_MSG && msglen > 0)
        {
          size_t len
              = strnlen ((const char *)p + sizeof a, a.rta_len - sizeof a);
          if (len >= msglen)
            len = msglen - 1;
          memcpy (msg, p + sizeof a, len);
          msg[len] = '\0';
          return;
        }
      size_t step = AG_NL_ALIGN (a.rta_len);
      if (step >= n)
        return;
      p += step;
      n -= step;
    }
}

int
ag_nl_ack (const void *buf, size_t n, uint32_t seq, int *error, char *msg,
           size_t msglen)
{
  const uint8_t *p = buf;
  struct ag_nlmsghdr h;
  struct ag_nlmsgerr e;
  if (msglen > 0)
    msg[0] = '\0';
  while (n >= sizeof h)
    {
      memcpy (&h, p, sizeof h);
      if (h.nlmsg_len < sizeof h || h.nlmsg_len > n)
        return -1;
      if (h.nlmsg_type == AG_NLMSG_ERROR && h.nlmsg_seq == seq)
        {
          if (h.nlmsg_len < sizeof h + sizeof e)
            return -1;
          memcpy (&e, p + sizeof h, sizeof e);
          if (e.error > 0 || e.error < -4095)
            return -1;
          *error = -e.error;
          if (h.nlmsg_flags & AG_NLM_F_ACK_TLVS)
            {
              /* the attributes follow the request, echoed unless capped */
              size_t off = sizeof h + sizeof e;
              if (!(h.nlmsg_flags & AG_NLM_F_CAPPED))
                off = e.msg.nlmsg_len < sizeof e.msg
                              || e.msg.nlmsg_len > h.nlmsg_len
                          ? h.nlmsg_len
                          : sizeof h + sizeof e.error
                                + AG_NL_ALIGN (e.msg.nlmsg_len);
              if (off < h.nlmsg_len)
                ack_msg (p + off, h.nlmsg_len - off, msg, msglen);
            }
          return 1;
        }
      size_t step = AG_NL_ALIGN (h.nlmsg_len);
      if (step >= n)
        break;
      p += step;
      n -= step;
    }
  return 0;
}

void
ag_addr_format (uint32_t family, const uint8_t *a, char out[AG_ADDR_STRLEN])
{
  if (family == AF_INET)
    {
      snprintf (out, AG_ADDR_STRLEN, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
      return;
    }
  if (family != AF_INET6)
    {
      strcpy (out, "?");
      return;
    }
  /* RFC 5952: the first longest run of two or more zero groups is "::" */
  unsigned g[8];
  int best = -1, best_len = 1;
  for (int k = 0; k < 8; k++)
    g[k] = (unsigned)a[2 * k] << 8 | a[2 * k + 1];
  for (int k = 0, j; k < 8; k = j + 1)
    {
      for (j = k; j < 8 && g[j] == 0; j++)
        ;
      if (j - k > best_len)
        {
          best = k;
          best_len = j - k;
        }
    }
  size_t n = 0;
  for (int k = 0; k < 8; k++)
    if (k == best)
      {
        n += snprintf (out + n, AG_ADDR_STRLEN - n, "::");
        k += best_len - 1;
      }
    else
      n += snprintf (out + n, AG_ADDR_STRLEN - n,
                     k == 0 || k == best + best_len ? "%x" : ":%x", g[k]);
}
