#include "config.h"

#include "network.h"
#include "log.h"
#include "util.h"

/* glibc's net/if.h before the kernel's headers, which then leave its
 * definitions alone */
#include <net/if.h>
#include <net/if_arp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a minimal rtnetlink client ---- */

#define NL_BUF 32768 /* what the kernel fills a dump's reads up to */

struct nl_msg
{
  union
  {
    struct nlmsghdr h;
    char buf[1024];
  } u;
};

static void
nl_init (struct nl_msg *m, uint16_t type, uint16_t flags, const void *hdr,
         size_t hdrlen)
{
  memset (m, 0, sizeof *m);
  m->u.h.nlmsg_type = type;
  m->u.h.nlmsg_flags = NLM_F_REQUEST | flags;
  m->u.h.nlmsg_len = NLMSG_LENGTH (hdrlen);
  memcpy (NLMSG_DATA (&m->u.h), hdr, hdrlen);
}

static struct rtattr *
nl_put (struct nl_msg *m, uint16_t type, const void *data, size_t len)
{
  size_t off = NLMSG_ALIGN (m->u.h.nlmsg_len);
  if (off + RTA_SPACE (len) > sizeof m->u.buf)
    return NULL; /* our own messages are small: cannot happen */
  struct rtattr *a = (struct rtattr *)(m->u.buf + off);
  a->rta_type = type;
  a->rta_len = RTA_LENGTH (len);
  if (len)
    memcpy (RTA_DATA (a), data, len);
  m->u.h.nlmsg_len = off + RTA_ALIGN (a->rta_len);
  return a;
}

static struct rtattr *
nl_nest (struct nl_msg *m, uint16_t type)
{
  return nl_put (m, type, NULL, 0);
}

static void
nl_nest_end (struct nl_msg *m, struct rtattr *a)
{
  a->rta_len = (unsigned short)(m->u.buf + m->u.h.nlmsg_len - (char *)a);
}

static int
nl_open (ko_error **err)
{
  int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0)
    return ko_error_set (err, errno, "netlink socket");
  struct timeval tv = { .tv_sec = 5 };
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/* Sends m and reads until its ack or the end of its dump; each message of
 * a dump goes to cb. Returns 0, or -1 with the kernel's errno in *err
 * prefixed by what. */
static int
nl_talk (int fd, struct nl_msg *m, void (*cb) (struct nlmsghdr *h, void *arg),
         void *arg, const char *what, ko_error **err)
{
  static uint32_t seq;
  m->u.h.nlmsg_seq = ++seq;
  if (!cb)
    m->u.h.nlmsg_flags |= NLM_F_ACK;
  if (send (fd, m->u.buf, m->u.h.nlmsg_len, 0) < 0)
    return ko_error_set (err, errno, "%s", what);
  char buf[NL_BUF];
  for (;;)
    {
      ssize_t n = recv (fd, buf, sizeof buf, 0);
      if (n < 0)
        return ko_error_set (err, errno, "%s", what);
      for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK (h, n);
           h = NLMSG_NEXT (h, n))
        {
          if (h->nlmsg_seq != m->u.h.nlmsg_seq)
            continue;
          if (h->nlmsg_type == NLMSG_DONE)
            return 0;
          if (h->nlmsg_type == NLMSG_ERROR)
            {
              struct nlmsgerr *e = NLMSG_DATA (h);
              if (e->error == 0)
                return 0;
              return ko_error_set (err, -e->error, "%s", what);
            }
          if (cb)
            cb (h, arg);
        }
    }
}

static void
parse_attrs (struct rtattr *tb[], int max, struct rtattr *a, int len)
{
  memset (tb, 0, sizeof (struct rtattr *) * (max + 1));
  for (; RTA_OK (a, len); a = RTA_NEXT (a, len))
    if (a->rta_type <= max)
      tb[a->rta_type] = a;
}

/* ---- reading the namespace ---- */

struct scan
{
  struct ko_network *net;
  int error; /* errno of the first problem, with its message */
  char msg[256];
};

/* Records the first thing the namespace has too much of. */
static void
scan_too_many (struct scan *s, const char *what, int max)
{
  if (s->error)
    return;
  s->error = E2BIG;
  snprintf (s->msg, sizeof s->msg, "more than %d %s", max, what);
}

static struct ko_net_link *
link_by_index (struct ko_network *net, int index)
{
  for (size_t i = 0; i < net->nlinks; i++)
    if (net->links[i].ifindex == index)
      return &net->links[i];
  return NULL;
}

static void
on_link (struct nlmsghdr *h, void *arg)
{
  struct scan *s = arg;
  struct ifinfomsg *ifi = NLMSG_DATA (h);
  struct rtattr *tb[IFLA_MAX + 1];
  parse_attrs (tb, IFLA_MAX, IFLA_RTA (ifi), (int)IFLA_PAYLOAD (h));
  if (ifi->ifi_type != ARPHRD_ETHER || (ifi->ifi_flags & IFF_LOOPBACK)
      || !tb[IFLA_IFNAME] || !tb[IFLA_ADDRESS]
      || RTA_PAYLOAD (tb[IFLA_ADDRESS]) != 6)
    return;
  const char *name = RTA_DATA (tb[IFLA_IFNAME]);
  if (s->net->nlinks == KO_NET_MAX_IFACES)
    {
      scan_too_many (s, "interfaces", KO_NET_MAX_IFACES);
      return;
    }
  struct ko_net_link *l = &s->net->links[s->net->nlinks];
  memset (l, 0, sizeof *l);
  size_t nlen = strnlen (name, RTA_PAYLOAD (tb[IFLA_IFNAME]));
  if (nlen == 0 || nlen >= KO_IFNAMSIZ)
    return;
  memcpy (l->iface.name, name, nlen);
  memcpy (l->iface.mac, RTA_DATA (tb[IFLA_ADDRESS]), 6);
  l->iface.mtu = tb[IFLA_MTU] ? *(uint32_t *)RTA_DATA (tb[IFLA_MTU]) : 1500;
  l->ifindex = ifi->ifi_index;
  l->tap_fd = -1;
  s->net->nlinks++;
}

static void
on_addr (struct nlmsghdr *h, void *arg)
{
  struct scan *s = arg;
  struct ifaddrmsg *ifa = NLMSG_DATA (h);
  struct rtattr *tb[IFA_MAX + 1];
  parse_attrs (tb, IFA_MAX, IFA_RTA (ifa), (int)IFA_PAYLOAD (h));
  struct ko_net_link *l = link_by_index (s->net, (int)ifa->ifa_index);
  /* link-local IPv6: the guest makes the same one from the same MAC */
  if (l == NULL || ifa->ifa_scope == RT_SCOPE_LINK
      || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
    return;
  struct rtattr *a = ifa->ifa_family == AF_INET && tb[IFA_LOCAL]
                         ? tb[IFA_LOCAL]
                         : tb[IFA_ADDRESS];
  size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;
  if (a == NULL || RTA_PAYLOAD (a) != alen)
    return;
  if (l->iface.naddrs == KO_NET_MAX_ADDRS)
    {
      scan_too_many (s, "addresses on an interface", KO_NET_MAX_ADDRS);
      return;
    }
  struct ko_net_addr *na = &l->iface.addrs[l->iface.naddrs++];
  na->family = ifa->ifa_family;
  memcpy (na->addr, RTA_DATA (a), alen);
  na->prefix = ifa->ifa_prefixlen;
}

static void
on_route (struct nlmsghdr *h, void *arg)
{
  struct scan *s = arg;
  struct rtmsg *rt = NLMSG_DATA (h);
  struct rtattr *tb[RTA_MAX + 1];
  parse_attrs (tb, RTA_MAX, RTM_RTA (rt), (int)RTM_PAYLOAD (h));
  uint32_t table
      = tb[RTA_TABLE] ? *(uint32_t *)RTA_DATA (tb[RTA_TABLE]) : rt->rtm_table;
  /* the routes the kernel makes for an address come back with it */
  if (table != RT_TABLE_MAIN || rt->rtm_type != RTN_UNICAST
      || rt->rtm_protocol == RTPROT_KERNEL || !tb[RTA_OIF]
      || (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6))
    return;
  struct ko_net_link *l
      = link_by_index (s->net, *(int *)RTA_DATA (tb[RTA_OIF]));
  size_t alen = rt->rtm_family == AF_INET ? 4 : 16;
  if (l == NULL || (tb[RTA_DST] && RTA_PAYLOAD (tb[RTA_DST]) != alen)
      || (tb[RTA_GATEWAY] && RTA_PAYLOAD (tb[RTA_GATEWAY]) != alen))
    return;
  if (s->net->nroutes == KO_NET_MAX_ROUTES)
    {
      scan_too_many (s, "routes", KO_NET_MAX_ROUTES);
      return;
    }
  struct ko_net_route *r = &s->net->routes[s->net->nroutes++];
  memset (r, 0, sizeof *r);
  r->family = rt->rtm_family;
  r->dst_len = tb[RTA_DST] ? rt->rtm_dst_len : 0;
  if (tb[RTA_DST])
    memcpy (r->dst, RTA_DATA (tb[RTA_DST]), alen);
  if (tb[RTA_GATEWAY])
    {
      r->has_gw = true;
      memcpy (r->gw, RTA_DATA (tb[RTA_GATEWAY]), alen);
    }
  memcpy (r->dev, l->iface.name, sizeof r->dev);
}

void
network_sort_routes (struct ko_net_route *r, size_t n)
{
  /* stable: on-link routes first, each group in the kernel's order */
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && !r[j].has_gw && r[j - 1].has_gw; j--)
      {
        struct ko_net_route t = r[j];
        r[j] = r[j - 1];
        r[j - 1] = t;
      }
}

static int
dump (int fd, uint16_t type, void (*cb) (struct nlmsghdr *, void *),
      struct scan *s, const char *what, ko_error **err)
{
  struct nl_msg m;
  struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
  nl_init (&m, type, NLM_F_DUMP, &g, sizeof g);
  if (nl_talk (fd, &m, cb, s, what, err) < 0)
    return -1;
  if (s->error)
    return ko_error_setx (err, s->error, "%s", s->msg);
  return 0;
}

/* ---- taps and redirects ---- */

static int
tap_create (struct ko_net_link *l, size_t i, ko_error **err)
{
  l->tap_fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (l->tap_fd < 0)
    return ko_error_set (err, errno, "/dev/net/tun");
  struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
  snprintf (ifr.ifr_name, sizeof ifr.ifr_name, "tap%zu_kata", i);
  if (ioctl (l->tap_fd, TUNSETIFF, &ifr) < 0)
    return ko_error_set (err, errno, "tap %s", ifr.ifr_name);
  memcpy (l->tap_name, ifr.ifr_name, sizeof l->tap_name);
  _cleanup_close_ int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return ko_error_set (err, errno, "socket");
  if (ioctl (s, SIOCGIFINDEX, &ifr) < 0)
    return ko_error_set (err, errno, "tap %s: index", l->tap_name);
  l->tap_index = ifr.ifr_ifindex;
  ifr.ifr_mtu = (int)l->iface.mtu;
  if (ioctl (s, SIOCSIFMTU, &ifr) < 0)
    return ko_error_set (err, errno, "tap %s: mtu %u", l->tap_name,
                         l->iface.mtu);
  ifr.ifr_flags = IFF_UP;
  if (ioctl (s, SIOCSIFFLAGS, &ifr) < 0)
    return ko_error_set (err, errno, "tap %s: up", l->tap_name);
  return 0;
}

static int
ingress_qdisc (int fd, int ifindex, uint16_t type, uint16_t flags,
               const char *what, ko_error **err)
{
  struct nl_msg m;
  struct tcmsg t = { .tcm_family = AF_UNSPEC,
                     .tcm_ifindex = ifindex,
                     .tcm_handle = TC_H_MAKE (TC_H_INGRESS, 0),
                     .tcm_parent = TC_H_INGRESS };
  nl_init (&m, type, flags, &t, sizeof t);
  nl_put (&m, TCA_KIND, "ingress", sizeof "ingress");
  return nl_talk (fd, &m, NULL, NULL, what, err);
}

/* Every frame that arrives on from leaves through to: `tc filter add dev
 * FROM parent ffff: protocol all u32 match u8 0 0 action mirred egress
 * redirect dev TO` (this host's kernel has no matchall classifier). */
static int
redirect (int fd, int from, int to, const char *what, ko_error **err)
{
  int r = ingress_qdisc (fd, from, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL,
                         what, err);
  if (r < 0 && (*err)->status == EEXIST)
    {
      /* Left by a monitor that was killed (its tap went with QEMU), or
       * some other ingress policy: either way every frame is about to go
       * to the VM. Replaced once. */
      ko_error_free (*err);
      *err = NULL;
      r = ingress_qdisc (fd, from, RTM_DELQDISC, 0, what, err);
      if (r == 0)
        r = ingress_qdisc (fd, from, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL,
                           what, err);
    }
  if (r < 0)
    return -1;
  struct nl_msg m;
  struct tcmsg t = { .tcm_family = AF_UNSPEC,
                     .tcm_ifindex = from,
                     .tcm_parent = TC_H_MAKE (TC_H_INGRESS, 0),
                     .tcm_info = TC_H_MAKE (1u << 16, htons (ETH_P_ALL)) };
  nl_init (&m, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, &t, sizeof t);
  nl_put (&m, TCA_KIND, "u32", sizeof "u32");
  struct rtattr *opts = nl_nest (&m, TCA_OPTIONS);
  struct
  {
    struct tc_u32_sel sel;
    struct tc_u32_key key;
  } sel = { .sel = { .flags = TC_U32_TERMINAL, .nkeys = 1 } };
  nl_put (&m, TCA_U32_SEL, &sel, sizeof sel);
  struct rtattr *acts = nl_nest (&m, TCA_U32_ACT);
  struct rtattr *act = nl_nest (&m, 1);
  nl_put (&m, TCA_ACT_KIND, "mirred", sizeof "mirred");
  struct rtattr *aopts = nl_nest (&m, TCA_ACT_OPTIONS);
  struct tc_mirred p = { .action = TC_ACT_STOLEN,
                         .eaction = TCA_EGRESS_REDIR,
                         .ifindex = (uint32_t)to };
  if (nl_put (&m, TCA_MIRRED_PARMS, &p, sizeof p) == NULL)
    return ko_error_setx (err, E2BIG, "%s: message too large", what);
  nl_nest_end (&m, aopts);
  nl_nest_end (&m, act);
  nl_nest_end (&m, acts);
  nl_nest_end (&m, opts);
  if (nl_talk (fd, &m, NULL, NULL, what, err) < 0)
    {
      ko_error *e = NULL;
      ingress_qdisc (fd, from, RTM_DELQDISC, 0, what, &e);
      ko_error_free (e);
      return -1;
    }
  return 0;
}

/* ---- entering the namespace ---- */

struct netns
{
  int self, target;
};

static int
netns_enter (const char *path, struct netns *ns, ko_error **err)
{
  ns->self = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (ns->self < 0)
    return ko_error_set (err, errno, "/proc/self/ns/net");
  ns->target = open (path, O_RDONLY | O_CLOEXEC);
  if (ns->target < 0)
    {
      int e = errno;
      close (ns->self);
      return ko_error_set (err, e, "network namespace %s", path);
    }
  struct stat a, b;
  if (fstat (ns->self, &a) == 0 && fstat (ns->target, &b) == 0
      && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
    {
      close (ns->self);
      close (ns->target);
      return ko_error_setx (err, EINVAL,
                            "network namespace %s is the host's own: its "
                            "interfaces are not handed to a VM",
                            path);
    }
  if (setns (ns->target, CLONE_NEWNET) < 0)
    {
      int e = errno;
      close (ns->self);
      close (ns->target);
      return ko_error_set (err, e, "enter network namespace %s", path);
    }
  return 0;
}

static void
netns_leave (struct netns *ns)
{
  if (setns (ns->self, CLONE_NEWNET) < 0)
    log_debug ("back to the monitor's network namespace: %s", strerror (errno));
  close (ns->self);
  close (ns->target);
}

static void
remove_redirects (int fd, struct ko_network *net)
{
  for (size_t i = 0; i < net->nlinks; i++)
    if (net->links[i].redirected)
      {
        ko_error *e = NULL;
        ingress_qdisc (fd, net->links[i].ifindex, RTM_DELQDISC, 0,
                       "remove ingress filter", &e);
        ko_error_free (e);
        net->links[i].redirected = false;
      }
}

static void
close_taps (struct ko_network *net)
{
  for (size_t i = 0; i < net->nlinks; i++)
    if (net->links[i].tap_fd >= 0)
      {
        close (net->links[i].tap_fd);
        net->links[i].tap_fd = -1;
      }
}

static int
setup_in_ns (int fd, struct ko_network *net, ko_error **err)
{
  /* Another container's VM has them (a pod's containers share one
   * namespace, and each has its own VM here): this one gets none, as
   * before networking. */
  if (if_nametoindex ("tap0_kata") > 0)
    {
      log_debug ("network: the interfaces are another VM's already");
      return 0;
    }
  struct scan s = { .net = net };
  if (dump (fd, RTM_GETLINK, on_link, &s, "list interfaces", err) < 0
      || dump (fd, RTM_GETADDR, on_addr, &s, "list addresses", err) < 0
      || dump (fd, RTM_GETROUTE, on_route, &s, "list routes", err) < 0)
    return -1;
  network_sort_routes (net->routes, net->nroutes);
  for (size_t i = 0; i < net->nlinks; i++)
    {
      struct ko_net_link *l = &net->links[i];
      char what[64];
      if (tap_create (l, i, err) < 0)
        return ko_error_wrap (err, "interface %s", l->iface.name);
      snprintf (what, sizeof what, "redirect %s to %s", l->iface.name,
                l->tap_name);
      if (redirect (fd, l->ifindex, l->tap_index, what, err) < 0)
        return -1;
      l->redirected = true;
      snprintf (what, sizeof what, "redirect %s to %s", l->tap_name,
                l->iface.name);
      if (redirect (fd, l->tap_index, l->ifindex, what, err) < 0)
        return -1;
    }
  return 0;
}

int
network_setup (const char *path, struct ko_network *net, ko_error **err)
{
  memset (net, 0, sizeof *net);
  struct netns ns;
  if (netns_enter (path, &ns, err) < 0)
    return -1;
  int r = -1;
  int fd = nl_open (err);
  if (fd >= 0)
    {
      r = setup_in_ns (fd, net, err);
      if (r < 0)
        {
          remove_redirects (fd, net);
          close_taps (net);
          net->nlinks = 0;
        }
      close (fd);
    }
  netns_leave (&ns);
  if (r < 0)
    return ko_error_wrap (err, "network namespace %s", path);
  for (size_t i = 0; i < net->nlinks; i++)
    log_debug ("network: %s (%zu addresses) through %s",
               net->links[i].iface.name, net->links[i].iface.naddrs,
               net->links[i].tap_name);
  return 0;
}

void
network_reclaim (const char *path)
{
  ko_error *e = NULL;
  struct netns ns;
  if (netns_enter (path, &ns, &e) < 0)
    {
      ko_error_free (e);
      return;
    }
  struct if_nameindex *ifs = if_nameindex ();
  int fd = if_nametoindex ("tap0_kata") > 0 ? -1 : nl_open (&e);
  for (struct if_nameindex *i = ifs; fd >= 0 && i && i->if_index; i++)
    if (strcmp (i->if_name, "lo") != 0)
      {
        ingress_qdisc (fd, (int)i->if_index, RTM_DELQDISC, 0,
                       "remove ingress filter", &e);
        ko_error_free (e);
        e = NULL;
      }
  if (fd >= 0)
    close (fd);
  if (ifs)
    if_freenameindex (ifs);
  ko_error_free (e);
  netns_leave (&ns);
}

void
network_teardown (const char *path, struct ko_network *net)
{
  close_taps (net);
  if (net->nlinks == 0)
    return;
  ko_error *e = NULL;
  struct netns ns;
  if (netns_enter (path, &ns, &e) < 0)
    {
      ko_error_free (e);
      return;
    }
  int fd = nl_open (&e);
  if (fd >= 0)
    {
      remove_redirects (fd, net);
      close (fd);
    }
  ko_error_free (e);
  netns_leave (&ns);
  net->nlinks = 0;
}
