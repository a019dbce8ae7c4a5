#include "config.h"

#include "prom.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
ko_prom_labels_add (struct ko_prom_labels *l, const char *name,
                    const char *value)
{
  if (l->n >= KO_PROM_MAX_LABELS)
    return -1;
  l->v[l->n].name = name;
  l->v[l->n++].value = value;
  return 0;
}

static int
name_ok (const char *s, int colon)
{
  if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
          || (*s >= '0' && *s <= '9') || *s == '_' || (colon && *s == ':')))
      return 0;
  return 1;
}

int
ko_prom_name_ok (const char *name)
{
  return name_ok (name, 1);
}

int
ko_prom_label_name_ok (const char *name)
{
  return name_ok (name, 0) && strncmp (name, "__", 2) != 0;
}

static int
put (struct ko_buf *b, const char *s, size_t n, ko_error **err)
{
  if (ko_buf_append (b, s, n) < 0)
    return ko_error_set (err, ENOMEM, "metrics");
  return 0;
}

/* HELP text escapes \ and newline; label values " as well */
static int
put_escaped (struct ko_buf *b, const char *s, int quote, ko_error **err)
{
  for (const char *p = s; *p; p++)
    {
      const char *e = NULL;
      if (*p == '\\')
        e = "\\\\";
      else if (*p == '\n')
        e = "\\n";
      else if (quote && *p == '"')
        e = "\\\"";
      if (put (b, e ? e : p, e ? 2 : 1, err) < 0)
        return -1;
    }
  return 0;
}

int
ko_prom_family (struct ko_buf *b, const char *name, const char *type,
                const char *help, ko_error **err)
{
  if (!ko_prom_name_ok (name))
    return ko_error_setx (err, EINVAL, "metric name \"%s\" is invalid",
                          name ? name : "");
  if (type == NULL
      || (strcmp (type, "counter") != 0 && strcmp (type, "gauge") != 0
          && strcmp (type, "histogram") != 0))
    return ko_error_setx (err, EINVAL, "metric %s: type \"%s\" is invalid",
                          name, type ? type : "");
  if (help == NULL || *help == '\0')
    return ko_error_setx (err, EINVAL, "metric %s: no help text", name);
  if (put (b, "# HELP ", 7, err) < 0 || put (b, name, strlen (name), err) < 0
      || put (b, " ", 1, err) < 0 || put_escaped (b, help, 0, err) < 0
      || put (b, "\n# TYPE ", 8, err) < 0
      || put (b, name, strlen (name), err) < 0 || put (b, " ", 1, err) < 0
      || put (b, type, strlen (type), err) < 0 || put (b, "\n", 1, err) < 0)
    return -1;
  return 0;
}

static int
sample (struct ko_buf *b, const char *name, const struct ko_prom_labels *l,
        const char *value, ko_error **err)
{
  if (!ko_prom_name_ok (name))
    return ko_error_setx (err, EINVAL, "metric name \"%s\" is invalid",
                          name ? name : "");
  if (put (b, name, strlen (name), err) < 0)
    return -1;
  const char *sep = "{";
  for (size_t i = 0; l && i < l->n; i++)
    {
      if (l->v[i].value == NULL)
        continue;
      if (!ko_prom_label_name_ok (l->v[i].name))
        return ko_error_setx (err, EINVAL,
                              "metric %s: label name \"%s\" is "
                              "invalid",
                              name, l->v[i].name ? l->v[i].name : "");
      if (put (b, sep, 1, err) < 0
          || put (b, l->v[i].name, strlen (l->v[i].name), err) < 0
          || put (b, "=\"", 2, err) < 0
          || put_escaped (b, l->v[i].value, 1, err) < 0
          || put (b, "\"", 1, err) < 0)
        return -1;
      sep = ",";
    }
  if ((*sep == ',' && put (b, "}", 1, err) < 0) || put (b, " ", 1, err) < 0
      || put (b, value, strlen (value), err) < 0 || put (b, "\n", 1, err) < 0)
    return -1;
  return 0;
}

int
ko_prom_u64 (struct ko_buf *b, const char *name,
             const struct ko_prom_labels *labels, uint64_t v, ko_error **err)
{
  char s[24];
  snprintf (s, sizeof s, "%llu", (unsigned long long)v);
  return sample (b, name, labels, s, err);
}

int
ko_prom_ns (struct ko_buf *b, const char *name,
            const struct ko_prom_labels *labels, uint64_t ns, ko_error **err)
{
  char s[32];
  int n = snprintf (s, sizeof s, "%llu.%09llu",
                    (unsigned long long)(ns / 1000000000ull),
                    (unsigned long long)(ns % 1000000000ull));
  while (n > 0 && s[n - 1] == '0')
    s[--n] = '\0';
  if (n > 0 && s[n - 1] == '.')
    s[--n] = '\0';
  return sample (b, name, labels, s, err);
}

int
ko_prom_double (struct ko_buf *b, const char *name,
                const struct ko_prom_labels *labels, double v, ko_error **err)
{
  char s[40];
  if (isnan (v))
    snprintf (s, sizeof s, "NaN");
  else if (isinf (v))
    snprintf (s, sizeof s, "%s", v > 0 ? "+Inf" : "-Inf");
  else
    {
      /* the shortest form that reads back as v */
      snprintf (s, sizeof s, "%.15g", v);
      if (strtod (s, NULL) != v)
        snprintf (s, sizeof s, "%.17g", v);
    }
  return sample (b, name, labels, s, err);
}
