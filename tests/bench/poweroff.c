/* /init of the bare-boot initrd: print the guest uptime on the console
 * ("UPTIME <seconds>") and power the VM off at once. */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

int
main (void)
{
  char buf[64];
  ssize_t n = -1;
  if (mount ("proc", "/proc", "proc", 0, NULL) == 0)
    {
      int fd = open ("/proc/uptime", O_RDONLY);
      n = fd < 0 ? -1 : read (fd, buf, sizeof buf);
    }
  mount ("dev", "/dev", "devtmpfs", 0, NULL);
  int c = open ("/dev/console", O_WRONLY);
  if (c >= 0 && n > 0)
    {
      write (c, "UPTIME ", 7);
      write (c, buf, n);
    }
  reboot (RB_POWER_OFF);
  return 1;
}
