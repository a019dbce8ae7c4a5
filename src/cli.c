#include "config.h"

#include "cli.h"
#include "container.h"
#include "state.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
cli_print_help (const struct ko_command *c)
{
  printf ("Usage: kata-oci %s %s\n\n%s\n", c->name, c->args, c->summary);
  if (c->options)
    printf ("\nOptions:\n%s", c->options);
  printf ("  -h, --help    show this help\n");
}

int
cli_preserve_fds (const char *name, const char *arg, int *n, ko_error **err)
{
  char *end;
  errno = 0;
  long v = strtol (arg, &end, 10);
  if (errno || end == arg || *end || v < 0 || v > INT_MAX)
    return ko_error_setx (err, EINVAL,
                          "%s: --preserve-fds %s: expected a number of file "
                          "descriptors",
                          name, arg);
  *n = (int)v;
  return 0;
}

int
cli_bad_option (const char *name, int ch, char **argv, ko_error **err)
{
  /* a long option as written (without "=value"); a short option's letter
   * from optopt: argv[optind - 1] may hold a cluster of them */
  const char *word = optind > 0 ? argv[optind - 1] : "";
  char opt[64];
  if (strncmp (word, "--", 2) == 0 || optopt <= ' ' || optopt >= 127)
    snprintf (opt, sizeof opt, "%.*s", (int)strcspn (word, "="), word);
  else
    snprintf (opt, sizeof opt, "-%c", optopt);
  if (ch == ':')
    return ko_error_setx (err, EINVAL, "%s: option %s: requires a value", name,
                          opt);
  return ko_error_setx (err, EINVAL, "%s: unknown option %s", name, opt);
}

int
cli_check_args (const struct ko_command *c, int nargs, int min, int max,
                ko_error **err)
{
  if (nargs < min)
    return ko_error_setx (err, EINVAL,
                          "%s: requires %s%d argument%s (usage: kata-oci %s "
                          "%s)",
                          c->name, min == max ? "exactly " : "at least ", min,
                          min == 1 ? "" : "s", c->name, c->args);
  if (max >= 0 && nargs > max)
    return ko_error_setx (err, EINVAL,
                          "%s: too many arguments (usage: kata-oci %s %s)",
                          c->name, c->name, c->args);
  return 0;
}

int
cli_container_id (const struct ko_command *c, int argc, char **argv,
                  int optind_, const char **id, ko_error **err)
{
  if (cli_check_args (c, argc - optind_, 1, 1, err) < 0)
    return -1;
  if (state_validate_id (argv[optind_], err) < 0)
    return -1;
  *id = argv[optind_];
  return 0;
}

static const struct
{
  const char *name;
  int sig;
} signals[] = {
  { "HUP", SIGHUP },   { "INT", SIGINT },       { "QUIT", SIGQUIT },
  { "ILL", SIGILL },   { "TRAP", SIGTRAP },     { "ABRT", SIGABRT },
  { "IOT", SIGIOT },   { "BUS", SIGBUS },       { "FPE", SIGFPE },
  { "KILL", SIGKILL }, { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },
  { "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },
  { "CONT", SIGCONT }, { "STOP", SIGSTOP },     { "TSTP", SIGTSTP },
  { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },
  { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },     { "VTALRM", SIGVTALRM },
  { "PROF", SIGPROF }, { "WINCH", SIGWINCH },   { "IO", SIGIO },
  { "POLL", SIGPOLL }, { "PWR", SIGPWR },       { "SYS", SIGSYS },
};

int
cli_parse_signal (const char *s, int *sig, ko_error **err)
{
  if (s == NULL || *s == '\0')
    return ko_error_setx (err, EINVAL, "invalid signal: empty");
  if (isdigit ((unsigned char)*s))
    {
      char *end;
      long v = strtol (s, &end, 10);
      if (*end || v < 0 || v > 64)
        return ko_error_setx (err, EINVAL, "invalid signal: %s", s);
      *sig = (int)v;
      return 0;
    }
  const char *n = strncasecmp (s, "SIG", 3) == 0 ? s + 3 : s;
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
    if (strcasecmp (n, signals[i].name) == 0)
      {
        *sig = signals[i].sig;
        return 0;
      }
  if (strncasecmp (n, "RTMIN", 5) == 0 || strncasecmp (n, "RTMAX", 5) == 0)
    {
      int base = strncasecmp (n, "RTMIN", 5) == 0 ? SIGRTMIN : SIGRTMAX;
      const char *off = n + 5;
      if (*off == '\0')
        {
          *sig = base;
          return 0;
        }
      char *end;
      long v = strtol (off, &end, 10);
      if (*end == '\0' && (off[0] == '+' || off[0] == '-'))
        {
          long r = base + v;
          if (r >= SIGRTMIN && r <= SIGRTMAX)
            {
              *sig = (int)r;
              return 0;
            }
        }
    }
  return ko_error_setx (err, EINVAL, "invalid signal: %s", s);
}

int
cli_parse_id_only (const struct ko_command *c, int argc, char **argv,
                   const char **id, ko_error **err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int ch;
  while ((ch = getopt_long (argc, argv, "+:h", opts, NULL)) != -1)
    {
      if (ch == 'h')
        {
          cli_print_help (c);
          return 1;
        }
      return cli_bad_option (c->name, ch, argv, err);
    }
  return cli_container_id (c, argc, argv, optind, id, err);
}

int
cli_parse_create (const struct ko_command *c, int argc, char **argv,
                  struct create_opts *o, ko_error **err)
{
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "console-socket", required_argument, NULL, 'c' },
    { "pid-file", required_argument, NULL, 'p' },
    { "pidfd-socket", required_argument, NULL, 'F' },
    { "no-pivot", no_argument, NULL, 'P' },
    { "no-new-keyring", no_argument, NULL, 'K' },
    { "preserve-fds", required_argument, NULL, 'f' },
    { "detach", no_argument, NULL, 'd' },
    { "keep", no_argument, NULL, 'k' },
    { "no-subreaper", no_argument, NULL, 'S' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int ch;
  while (
      (ch = getopt_long (argc, argv, o->run ? "+:b:dh" : "+:b:h", opts, NULL))
      != -1)
    switch (ch)
      {
      case 'b':
        o->bundle = optarg;
        break;
      case 'c':
        o->console_socket = optarg;
        break;
      case 'p':
        o->pid_file = optarg;
        break;
      case 'F':
        o->pidfd_socket = optarg;
        break;
      case 'P':
        o->no_pivot = true;
        break;
      case 'K':
        o->no_new_keyring = true;
        break;
      case 'f':
        if (cli_preserve_fds (c->name, optarg, &o->preserve_fds, err) < 0)
          return -1;
        break;
      case 'd':
      case 'k':
      case 'S':
        if (!o->run)
          return cli_bad_option (c->name, ch, argv, err);
        if (ch == 'd')
          o->detach = true;
        else if (ch == 'k')
          o->keep = true;
        break;
      case 'h':
        cli_print_help (c);
        return 1;
      default:
        return cli_bad_option (c->name, ch, argv, err);
      }
  return cli_container_id (c, argc, argv, optind, &o->id, err);
}
