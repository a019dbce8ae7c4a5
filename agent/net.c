/* The NICs the host gave the VM: found by MAC address in sysfs, set up and
 * routed over rtnetlink, one request at a time, each acked. */
#define _GNU_SOURCE
#include "agent.h"
#include "agent-linux.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define NET_SYSFS "/sys/class/net"
/* how long a NIC may take to show up: its driver may still be probing */
#define NIC_WAIT_STEPS 100
#define NIC_WAIT_STEP_NS (10 * 1000 * 1000)

/* The index of interface name from sysfs (if_nametoindex would add 370
 * bytes to the agent), or 0 with errno. */
static int
nic_index (const char *name)
{
  char p[sizeof NET_SYSFS + KO_IFNAMSIZ + 16], v[16];
  snprintf (p, sizeof p, NET_SYSFS "/%.15s/ifindex", name);
  int index = 0;
  if (ag_read_str (p, v, sizeof v) > 0)
    for (const char *c = v; *c >= '0' && *c <= '9' && index < 1 << 24; c++)
      index = index * 10 + (*c - '0');
  if (index == 0)
    errno = ENODEV;
  return index;
}

/* The kernel's name of the NIC whose address is mac ("52:54:00:...", as
 * sysfs shows it). */
static int
find_nic (const char *mac, char name[KO_IFNAMSIZ])
{
  DIR *d = opendir (NET_SYSFS);
  if (d == NULL)
    return -1;
  int r = -1;
  struct dirent *e;
  while (r < 0 && (e = readdir (d)))
    {
      char p[sizeof NET_SYSFS + KO_IFNAMSIZ + 16], a[32];
      if (e->d_name[0] == '.' || strlen (e->d_name) >= KO_IFNAMSIZ)
        continue;
      snprintf (p, sizeof p, NET_SYSFS "/%.15s/address", e->d_name);
      if (ag_read_str (p, a, sizeof a) > 0 && strcmp (a, mac) == 0)
        {
          strcpy (name, e->d_name);
          r = 0;
        }
    }
  closedir (d);
  return r;
}

static int
nl_open (ko_error **err)
{
  int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, AG_NETLINK_ROUTE);
  if (fd < 0)
    return ko_error_set (err, errno, "netlink socket");
  /* the kernel's reason with the errno, without our request echoed; an
   * older kernel gives the errno alone */
  int one = 1;
  setsockopt (fd, SOL_NETLINK, AG_NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt (fd, SOL_NETLINK, AG_NETLINK_CAP_ACK, &one, sizeof one);
  /* rtnetlink acks before send returns: this only bounds the unexpected */
  struct timeval tv = { .tv_sec = 1 };
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/* Sends m and reads its ack. A failure is described as "<fmt ...>: <errno
 * text>", with the kernel's reason in parentheses when it gives one. */
static int __attribute__ ((format (printf, 4, 5)))
nl_request (int fd, struct ag_nlmsg *m, ko_error **err, const char *fmt, ...)
{
  static uint32_t seq;
  struct ag_nlmsghdr *h = (struct ag_nlmsghdr *)m->buf;
  h->nlmsg_seq = ++seq;
  int error = 0, found = 0;
  char reason[128] = "";
  if (send (fd, m->buf, m->len, 0) != (ssize_t)m->len)
    error = errno ? errno : EIO;
  /* replies to an earlier request that timed out are skipped */
  for (int tries = 0; error == 0 && found == 0 && tries < 8; tries++)
    {
      _Alignas(4) uint8_t buf[1024];
      ssize_t n = recv (fd, buf, sizeof buf, 0);
      if (n < 0)
        error = errno;
      else if ((found = ag_nl_ack (buf, n, h->nlmsg_seq, &error, reason,
                                   sizeof reason))
               < 0)
        error = EPROTO;
    }
  if (error == 0 && found == 0)
    error = EPROTO;
  if (error == 0)
    return 0;
  char what[192];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (what, sizeof what, fmt, ap);
  va_end (ap);
  if (reason[0])
    return ko_error_setx (err, error, "%s: %s (%s)", what, strerror (error),
                          reason);
  return ko_error_set (err, error, "%s", what);
}

int
net_update_interface (const struct ko_net_iface *i, ko_error **err)
{
  static const uint8_t zero[6];
  char mac[18], cur[KO_IFNAMSIZ], a[AG_ADDR_STRLEN];
  snprintf (mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", i->mac[0],
            i->mac[1], i->mac[2], i->mac[3], i->mac[4], i->mac[5]);
  /* lo's address */
  if (memcmp (i->mac, zero, sizeof zero) == 0)
    return ko_error_setx (err, EINVAL, "interface %s: MAC %s is no NIC's",
                          i->name, mac);
  for (int k = 0; find_nic (mac, cur) < 0; k++)
    {
      if (k == NIC_WAIT_STEPS)
        return ko_error_setx (err, ENODEV, "no network interface with MAC %s%s",
                              mac,
                              ag_net ? ""
                                     : " (the guest kernel command line "
                                       "lacks agent.net=1)");
      nanosleep (&(struct timespec){ .tv_nsec = NIC_WAIT_STEP_NS }, NULL);
    }
  int index = nic_index (cur);
  if (index == 0)
    return ko_error_set (err, errno, "interface %s", cur);
  _cleanup_close_ int fd = nl_open (err);
  if (fd < 0)
    return -1;

  struct ag_nlmsg m;
  /* the kernel renames only a link that is down; a link taken down loses
   * its IPv6 addresses, so only for that */
  if (strcmp (cur, i->name) != 0)
    {
      /* Another NIC may hold the name still (the guest probed them in
       * another order than the host named them): it moves aside, and
       * takes its own name when its turn comes. */
      int other = nic_index (i->name);
      if (other > 0)
        {
          char aside[KO_IFNAMSIZ];
          snprintf (aside, sizeof aside, "kotmp%d", other);
          ag_nl_link_updown (&m, other, false);
          if (nl_request (fd, &m, err, "interface %s: set down", i->name) < 0)
            return -1;
          ag_nl_link_set (&m, other, aside, 0);
          if (nl_request (fd, &m, err, "interface %s: rename to %s", i->name,
                          aside)
              < 0)
            return -1;
        }
      ag_nl_link_updown (&m, index, false);
      if (nl_request (fd, &m, err, "interface %s: set down", cur) < 0)
        return -1;
      if (ag_nl_link_set (&m, index, i->name, 0) < 0)
        return ko_error_setx (err, EINVAL, "interface %s: bad name", i->name);
      if (nl_request (fd, &m, err, "interface %s: rename %s to %s", i->name,
                      cur, i->name)
          < 0)
        return -1;
    }
  ag_nl_link_set (&m, index, NULL, i->mtu); /* an MTU always fits */
  if (nl_request (fd, &m, err, "interface %s: set MTU %u", i->name, i->mtu) < 0)
    return -1;
  for (size_t k = 0; k < i->naddrs; k++)
    {
      const struct ko_net_addr *ad = &i->addrs[k];
      ag_addr_format (ad->family, ad->addr, a);
      if (ag_nl_addr (&m, index, ad) < 0)
        return ko_error_setx (err, EINVAL,
                              "interface %s: address %s/%u: bad prefix",
                              i->name, a, ad->prefix);
      if (nl_request (fd, &m, err, "interface %s: add address %s/%u", i->name,
                      a, ad->prefix)
          < 0)
        return -1;
    }
  ag_nl_link_updown (&m, index, true);
  if (nl_request (fd, &m, err, "interface %s: set up", i->name) < 0)
    return -1;
  return net_lo_up (err);
}

int
net_lo_up (ko_error **err)
{
  _cleanup_close_ int fd = nl_open (err);
  if (fd < 0)
    return -1;
  struct ag_nlmsg m;
  int lo = nic_index ("lo");
  if (lo == 0)
    return ko_error_set (err, errno, "interface lo");
  ag_nl_link_updown (&m, lo, true);
  return nl_request (fd, &m, err, "interface lo: set up");
}

int
net_update_routes (const struct ko_net_route *r, size_t n, ko_error **err)
{
  _cleanup_close_ int fd = -1;
  for (size_t k = 0; k < n; k++)
    {
      const struct ko_net_route *rt = &r[k];
      char dst[AG_ADDR_STRLEN + 8] = "default";
      char gw[AG_ADDR_STRLEN + 8] = "";
      char a[AG_ADDR_STRLEN];
      if (rt->dst_len > 0)
        {
          ag_addr_format (rt->family, rt->dst, a);
          snprintf (dst, sizeof dst, "%s/%u", a, rt->dst_len);
        }
      if (rt->has_gw)
        {
          ag_addr_format (rt->family, rt->gw, a);
          snprintf (gw, sizeof gw, " via %s", a);
        }
      struct ag_nlmsg m;
      int oif = nic_index (rt->dev);
      if (oif == 0)
        return ko_error_set (err, errno, "route %s%s dev %s", dst, gw, rt->dev);
      if (ag_nl_route (&m, oif, rt) < 0)
        return ko_error_setx (err, EINVAL,
                              "route %s%s dev %s: bad family or prefix", dst,
                              gw, rt->dev);
      if (fd < 0 && (fd = nl_open (err)) < 0)
        return -1;
      if (nl_request (fd, &m, err, "route %s%s dev %s", dst, gw, rt->dev) < 0)
        return -1;
    }
  return 0;
}
