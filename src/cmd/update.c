#include "config.h"

#include "container.h"
#include "oci.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* runc's flags take sizes such as 128m or 1G, and plain numbers. */
static int
parse_size (const char *flag, const char *s, int64_t *out, ko_error **err)
{
  char *end;
  errno = 0;
  long long v = strtoll (s, &end, 10);
  int64_t mul = 1;
  switch (*end)
    {
    case 'k':
    case 'K':
      mul = 1 << 10;
      end++;
      break;
    case 'm':
    case 'M':
      mul = 1 << 20;
      end++;
      break;
    case 'g':
    case 'G':
      mul = 1 << 30;
      end++;
      break;
    }
  if (*end == 'b' || *end == 'B')
    end++;
  if (errno || end == s || *end)
    return ko_error_setx (err, EINVAL, "update: --%s: invalid value \"%s\"",
                          flag, s);
  *out = v * mul;
  return 0;
}

static int
run (struct ko_global *g, int argc, char **argv, ko_error **err)
{
  enum
  {
    O_BLKIO = 256,
    O_PERIOD,
    O_QUOTA,
    O_RT_PERIOD,
    O_RT_RUNTIME,
    O_SHARES,
    O_CPUS,
    O_MEMS,
    O_KMEM,
    O_KMEM_TCP,
    O_MEMORY,
    O_RESERVATION,
    O_SWAP,
    O_PIDS,
    O_IDLE,
    O_L3,
    O_MEMBW
  };
  static const struct option opts[] = {
    { "resources", required_argument, NULL, 'r' },
    { "blkio-weight", required_argument, NULL, O_BLKIO },
    { "cpu-period", required_argument, NULL, O_PERIOD },
    { "cpu-quota", required_argument, NULL, O_QUOTA },
    { "cpu-rt-period", required_argument, NULL, O_RT_PERIOD },
    { "cpu-rt-runtime", required_argument, NULL, O_RT_RUNTIME },
    { "cpu-share", required_argument, NULL, O_SHARES },
    { "cpuset-cpus", required_argument, NULL, O_CPUS },
    { "cpuset-mems", required_argument, NULL, O_MEMS },
    { "kernel-memory", required_argument, NULL, O_KMEM },
    { "kernel-memory-tcp", required_argument, NULL, O_KMEM_TCP },
    { "memory", required_argument, NULL, O_MEMORY },
    { "memory-reservation", required_argument, NULL, O_RESERVATION },
    { "memory-swap", required_argument, NULL, O_SWAP },
    { "pids-limit", required_argument, NULL, O_PIDS },
    { "cpu-idle", required_argument, NULL, O_IDLE },
    { "l3-cache-schema", required_argument, NULL, O_L3 },
    { "mem-bw-schema", required_argument, NULL, O_MEMBW },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *resources = NULL;
  struct
  {
    int opt;
    const char *val;
    const char *name;
  } flags[32];
  size_t nflags = 0;
  int c, idx = 0;
  while ((c = getopt_long (argc, argv, "+:r:h", opts, &idx)) != -1)
    switch (c)
      {
      case 'r':
        resources = optarg;
        break;
      case 'h':
        cli_print_help (&cmd_update);
        return 0;
      default:
        if (c >= O_BLKIO && c <= O_MEMBW && nflags < KO_ARRAY_SIZE (flags))
          {
            flags[nflags].opt = c;
            flags[nflags].name = opts[idx].name;
            flags[nflags++].val = optarg;
            break;
          }
        return cli_bad_option ("update", c, argv, err);
      }
  const char *id;
  if (cli_container_id (&cmd_update, argc, argv, optind, &id, err) < 0)
    return -1;
  oci_linux_resources *r = NULL;
  if (resources)
    r = oci_linux_resources_parse_file (
        strcmp (resources, "-") == 0 ? "/dev/stdin" : resources, err);
  else
    r = oci_linux_resources_parse_data ("{}", 2, "resources", err);
  if (r == NULL)
    return -1;
  int ret = 0;
  for (size_t i = 0; i < nflags && ret == 0; i++)
    {
      int64_t v = 0;
      int o = flags[i].opt;
      if (o == O_CPUS || o == O_MEMS || o == O_L3 || o == O_MEMBW)
        {
          if (o == O_L3 || o == O_MEMBW)
            {
              ret = ko_error_setx (err, EINVAL,
                                   "update: --%s: Intel RDT cannot be "
                                   "applied inside a VM",
                                   flags[i].name);
              break;
            }
          if (r->cpu == NULL)
            r->cpu = calloc (1, sizeof *r->cpu);
          if (r->cpu == NULL)
            {
              ret = ko_error_set (err, ENOMEM, "update");
              break;
            }
          char **dst = o == O_CPUS ? &r->cpu->cpus : &r->cpu->mems;
          free (*dst);
          *dst = strdup (flags[i].val);
          continue;
        }
      if (parse_size (flags[i].name, flags[i].val, &v, err) < 0)
        {
          ret = -1;
          break;
        }
      if (o == O_MEMORY || o == O_RESERVATION || o == O_SWAP || o == O_KMEM
          || o == O_KMEM_TCP)
        {
          if (r->memory == NULL)
            r->memory = calloc (1, sizeof *r->memory);
          if (r->memory == NULL)
            {
              ret = ko_error_set (err, ENOMEM, "update");
              break;
            }
          if (o == O_MEMORY)
            r->memory->has_limit = true, r->memory->limit = v;
          else if (o == O_RESERVATION)
            r->memory->has_reservation = true, r->memory->reservation = v;
          else if (o == O_SWAP)
            r->memory->has_swap = true, r->memory->swap = v;
          else if (o == O_KMEM)
            r->memory->has_kernel = true, r->memory->kernel = v;
          else
            r->memory->has_kernel_tcp = true, r->memory->kernel_tcp = v;
        }
      else if (o == O_PIDS)
        r->has_pids_limit = true, r->pids_limit = v;
      else if (o == O_BLKIO)
        {
          if (r->block_io == NULL)
            r->block_io = calloc (1, sizeof *r->block_io);
          if (r->block_io == NULL)
            {
              ret = ko_error_set (err, ENOMEM, "update");
              break;
            }
          r->block_io->has_weight = true;
          r->block_io->weight = (uint16_t)v;
        }
      else
        {
          if (r->cpu == NULL)
            r->cpu = calloc (1, sizeof *r->cpu);
          if (r->cpu == NULL)
            {
              ret = ko_error_set (err, ENOMEM, "update");
              break;
            }
          if (o == O_PERIOD)
            r->cpu->has_period = true, r->cpu->period = (uint64_t)v;
          else if (o == O_QUOTA)
            r->cpu->has_quota = true, r->cpu->quota = v;
          else if (o == O_RT_PERIOD)
            r->cpu->has_realtime_period = true,
            r->cpu->realtime_period = (uint64_t)v;
          else if (o == O_RT_RUNTIME)
            r->cpu->has_realtime_runtime = true, r->cpu->realtime_runtime = v;
          else if (o == O_IDLE)
            r->cpu->has_idle = true, r->cpu->idle = v;
          else
            r->cpu->has_shares = true, r->cpu->shares = (uint64_t)v;
        }
    }
  char *json = ret == 0 ? oci_linux_resources_generate (r, err) : NULL;
  oci_linux_resources_free (r);
  if (json == NULL)
    return -1;
  ret = container_update (g, id, json, err);
  free (json);
  return ret;
}

const struct ko_command cmd_update = {
  .name = "update",
  .args = "[options] <container-id>",
  .summary = "update the resource limits of a container",
  .options
  = "  -r, --resources FILE   linux.resources JSON from FILE, or - for "
    "stdin\n"
    "      --blkio-weight N, --cpu-period N, --cpu-quota N, --cpu-rt-period "
    "N,\n"
    "      --cpu-rt-runtime N, --cpu-share N, --cpuset-cpus L, --cpuset-mems "
    "L,\n"
    "      --kernel-memory N, --kernel-memory-tcp N, --memory N,\n"
    "      --memory-reservation N, --memory-swap N, --pids-limit N,\n"
    "      --cpu-idle 0|1,\n"
    "      --l3-cache-schema S, --mem-bw-schema S   as runc's\n",
  .run = run,
};
