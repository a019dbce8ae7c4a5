/* snprintf and vsnprintf for the agent, in place of musl's: the agent
 * formats integers and strings only, and musl's printf core comes with
 * its floating-point formatting (about 10 KB of the agent's image, which
 * is resident in every guest). What it takes: the flags '-' and '0', a
 * width and a precision (digits or '*'), the lengths hh h l ll z j t, and
 * d i u x X o c s p %. musl's asprintf and vasprintf call these too. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct out
{
  char *buf;
  size_t cap; /* bytes buf holds, the NUL included; 0: count only */
  size_t len; /* bytes the whole result takes */
};

static void
put (struct out *o, const char *s, size_t n)
{
  if (o->len < o->cap)
    {
      size_t room = o->cap - 1 - o->len;
      memcpy (o->buf + o->len, s, n < room ? n : room);
    }
  o->len += n;
}

static void
pad (struct out *o, char c, size_t n)
{
  while (n-- > 0)
    put (o, &c, 1);
}

/* s (n bytes) in a field of width; zeros go after a sign or 0x */
static void
field (struct out *o, const char *prefix, const char *s, size_t n, size_t width,
       int left, int zero)
{
  size_t pl = strlen (prefix), total = pl + n;
  size_t fill = width > total ? width - total : 0;
  if (!left && !zero)
    pad (o, ' ', fill);
  put (o, prefix, pl);
  if (!left && zero)
    pad (o, '0', fill);
  put (o, s, n);
  if (left)
    pad (o, ' ', fill);
}

int
vsnprintf (char *restrict buf, size_t cap, const char *restrict fmt, va_list ap)
{
  struct out o = { buf, cap, 0 };
  while (*fmt)
    {
      const char *pct = strchr (fmt, '%');
      size_t lit = pct ? (size_t)(pct - fmt) : strlen (fmt);
      put (&o, fmt, lit);
      fmt += lit;
      if (*fmt == '\0')
        break;
      fmt++;
      int left = 0, zero = 0;
      for (;; fmt++)
        if (*fmt == '-')
          left = 1;
        else if (*fmt == '0')
          zero = 1;
        else if (*fmt != '+' && *fmt != ' ' && *fmt != '#')
          break;
      size_t width = 0;
      if (*fmt == '*')
        {
          int w = va_arg (ap, int);
          if (w < 0)
            left = 1, w = -w;
          width = (size_t)w;
          fmt++;
        }
      else
        for (; *fmt >= '0' && *fmt <= '9'; fmt++)
          width = width * 10 + (size_t)(*fmt - '0');
      int prec = -1;
      if (*fmt == '.')
        {
          fmt++;
          prec = 0;
          if (*fmt == '*')
            {
              prec = va_arg (ap, int);
              fmt++;
            }
          else
            for (; *fmt >= '0' && *fmt <= '9'; fmt++)
              prec = prec * 10 + (*fmt - '0');
        }
      int size = 0; /* -2 hh, -1 h, 0 int, 1 long, 2 long long */
      for (;; fmt++)
        if (*fmt == 'h')
          size--;
        else if (*fmt == 'l')
          size++;
        else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't')
          size = 1;
        else
          break;
      char conv = *fmt;
      if (conv == '\0')
        break;
      fmt++;
      char digits[24];
      char *end = digits + sizeof digits, *d = end;
      const char *prefix = "";
      uintmax_t v;
      switch (conv)
        {
        case 's':
          {
            const char *s = va_arg (ap, const char *);
            if (s == NULL)
              s = "(null)";
            size_t n = prec >= 0 ? strnlen (s, (size_t)prec) : strlen (s);
            field (&o, "", s, n, width, left, 0);
            continue;
          }
        case 'c':
          {
            char c = (char)va_arg (ap, int);
            field (&o, "", &c, 1, width, left, 0);
            continue;
          }
        case 'd':
        case 'i':
          {
            intmax_t s = size >= 2   ? va_arg (ap, long long)
                         : size == 1 ? va_arg (ap, long)
                                     : va_arg (ap, int);
            if (size == -1)
              s = (short)s;
            else if (size <= -2)
              s = (signed char)s;
            v = s < 0 ? -(uintmax_t)s : (uintmax_t)s;
            if (s < 0)
              prefix = "-";
            break;
          }
        case 'p':
          v = (uintptr_t)va_arg (ap, void *);
          prefix = "0x";
          conv = 'x';
          break;
        case 'u':
        case 'x':
        case 'X':
        case 'o':
          v = size >= 2   ? va_arg (ap, unsigned long long)
              : size == 1 ? va_arg (ap, unsigned long)
                          : va_arg (ap, unsigned);
          if (size == -1)
            v = (unsigned short)v;
          else if (size <= -2)
            v = (unsigned char)v;
          break;
        default: /* '%' and what this does not know: as written */
          put (&o, fmt - 1, 1);
          continue;
        }
      unsigned base = conv == 'o' ? 8 : conv == 'x' || conv == 'X' ? 16 : 10;
      const char *xd = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
      for (; v; v /= base)
        *--d = xd[v % base];
      /* a precision is the least number of digits, and turns '0' off */
      size_t nd = (size_t)(end - d);
      size_t want = prec >= 0 ? (size_t)prec : 1;
      while (nd < want && d > digits)
        *--d = '0', nd++;
      field (&o, prefix, d, nd, width, left, zero && prec < 0);
    }
  if (cap > 0)
    buf[o.len < cap ? o.len : cap - 1] = '\0';
  return o.len > INT32_MAX ? -1 : (int)o.len;
}

int
snprintf (char *restrict buf, size_t cap, const char *restrict fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (buf, cap, fmt, ap);
  va_end (ap);
  return n;
}
