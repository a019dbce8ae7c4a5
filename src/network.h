/* Passing a container's network into its VM, as Kata's tcfilter model does:
 * for every interface of the network namespace the engine made (podman's
 * bridge network, a CNI plugin), a tap device in that namespace, tc ingress
 * filters that redirect each one's frames to the other, and a virtio-net
 * NIC on the tap with the interface's MAC. The guest then takes the
 * interface's name, MTU, addresses and routes (UpdateInterface,
 * UpdateRoutes): to the bridge, the VM is the container. */
#ifndef KO_NETWORK_H
#define KO_NETWORK_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "proto.h"

struct ko_net_link
{
  struct ko_net_iface iface; /* what the guest gets */
  int ifindex;               /* the interface, in the namespace */
  int tap_index;
  int tap_fd;      /* -1 once handed to QEMU and closed */
  bool redirected; /* the interface's ingress qdisc is ours */
  char tap_name[KO_IFNAMSIZ];
};

struct ko_network
{
  struct ko_net_link links[KO_NET_MAX_IFACES];
  size_t nlinks;
  struct ko_net_route routes[KO_NET_MAX_ROUTES];
  size_t nroutes;
};

/* Reads the interfaces, addresses and routes of the network namespace at
 * path, then makes a tap per interface with the redirects. On failure
 * nothing is left in the namespace. */
int network_setup (const char *path, struct ko_network *net, ko_error **err);
/* Removes the interfaces' ingress filters (the taps go with QEMU's fds) and
 * closes what network_setup opened. Best effort: the namespace may be gone. */
void network_teardown (const char *path, struct ko_network *net);
/* After a monitor was killed: removes the ingress redirects it left on the
 * interfaces of the namespace at path, unless another VM holds them now
 * (a tap of ours is there). Best effort. */
void network_reclaim (const char *path);
/* The routes' order for the guest: on-link routes before those whose
 * gateway they make reachable. Pure; exposed for the unit tests. */
void network_sort_routes (struct ko_net_route *r, size_t n);

#endif
