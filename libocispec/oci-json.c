#include "oci-json.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

void *
oci_xmalloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (p == NULL)
    abort ();
  return p;
}

void *
oci_xcalloc (size_t n, size_t size)
{
  void *p = calloc (n ? n : 1, size ? size : 1);
  if (p == NULL)
    abort ();
  return p;
}

char *
oci_xstrdup (const char *s)
{
  char *r = strdup (s);
  if (r == NULL)
    abort ();
  return r;
}

char **
oci_strv_dup (const char *const *v, size_t len)
{
  char **r = oci_xcalloc (len + 1, sizeof *r);
  for (size_t i = 0; i < len; i++)
    r[i] = oci_xstrdup (v[i]);
  return r;
}

void
oci_strv_free_n (char **v, size_t len)
{
  if (v == NULL)
    return;
  for (size_t i = 0; i < len; i++)
    free (v[i]);
  free (v);
}

/* --- maps --- */

const char *
oci_map_get (const oci_map *m, const char *key)
{
  for (size_t i = m->len; i > 0; i--)
    if (strcmp (m->keys[i - 1], key) == 0)
      return m->values[i - 1];
  return NULL;
}

void
oci_map_set (oci_map *m, const char *key, const char *value)
{
  for (size_t i = m->len; i > 0; i--)
    if (strcmp (m->keys[i - 1], key) == 0)
      {
        free (m->values[i - 1]);
        m->values[i - 1] = oci_xstrdup (value);
        return;
      }
  char **keys = realloc (m->keys, (m->len + 1) * sizeof *keys);
  if (keys == NULL)
    abort ();
  m->keys = keys;
  char **values = realloc (m->values, (m->len + 1) * sizeof *values);
  if (values == NULL)
    abort ();
  m->values = values;
  m->keys[m->len] = oci_xstrdup (key);
  m->values[m->len] = oci_xstrdup (value);
  m->len++;
}

void
oci_map_clear (oci_map *m)
{
  oci_strv_free_n (m->keys, m->len);
  oci_strv_free_n (m->values, m->len);
  m->keys = m->values = NULL;
  m->len = 0;
}

/* --- paths and messages --- */

void
oci_parser_init (oci_parser *p, const char *name, ko_error **err)
{
  p->name = name;
  p->err = err;
  p->path[0] = '\0';
  p->len = 0;
}

static void
path_append (oci_parser *p, const char *fmt, const char *s, size_t i)
{
  if (p->len >= sizeof p->path - 1)
    return;
  int n = s ? snprintf (p->path + p->len, sizeof p->path - p->len, fmt, s)
            : snprintf (p->path + p->len, sizeof p->path - p->len, fmt, i);
  if (n < 0)
    return;
  p->len += (size_t)n;
  if (p->len > sizeof p->path - 1)
    p->len = sizeof p->path - 1; /* truncated */
}

size_t
oci_path_push_key (oci_parser *p, const char *key)
{
  size_t mark = p->len;
  path_append (p, p->len ? ".%s" : "%s", key, 0);
  return mark;
}

size_t
oci_path_push_index (oci_parser *p, size_t i)
{
  size_t mark = p->len;
  path_append (p, "[%zu]", NULL, i);
  return mark;
}

void
oci_path_pop (oci_parser *p, size_t mark)
{
  p->len = mark;
  p->path[mark] = '\0';
}

int
oci_fail (oci_parser *p, const char *what)
{
  if (p->len == 0)
    return ko_error_setx (p->err, EINVAL, "%s: %s", p->name, what);
  return ko_error_setx (p->err, EINVAL, "%s: %s: %s", p->name, p->path, what);
}

/* --- input --- */

const char *
oci_basename (const char *path)
{
  const char *slash = strrchr (path, '/');
  return slash ? slash + 1 : path;
}

int
oci_read_file (const char *path, char **data, size_t *len, ko_error **err)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ko_error_set (err, errno, "open %s", path);

  struct stat st;
  if (fstat (fd, &st) < 0)
    return ko_error_set (err, errno, "stat %s", path);
  if (S_ISREG (st.st_mode) && st.st_size > OCI_MAX_FILE_SIZE)
    return ko_error_set (err, EFBIG, "read %s", path);

  size_t cap = S_ISREG (st.st_mode) ? (size_t)st.st_size + 1 : 4096;
  size_t n = 0;
  _cleanup_free_ char *buf = oci_xmalloc (cap);
  for (;;)
    {
      if (n == cap)
        {
          if (cap > OCI_MAX_FILE_SIZE)
            return ko_error_set (err, EFBIG, "read %s", path);
          cap *= 2;
          char *nb = realloc (buf, cap);
          if (nb == NULL)
            abort ();
          buf = nb;
        }
      ssize_t r = read (fd, buf + n, cap - n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return ko_error_set (err, errno, "read %s", path);
      if (r == 0)
        break;
      n += (size_t)r;
    }
  *len = n;
  *data = take_ptr (buf);
  return 0;
}

/* Checks what yajl would accept but we must not: NUL bytes (yajl_tree wants
 * C strings), "\u0000" escapes (yajl_tree would cut the string there) and
 * nesting deeper than OCI_MAX_DEPTH. Mirrors yajl's lexer for strings and
 * comments (yajl_tree_parse allows comments) so that the depth is exact. */
static const char *
json_prescan (const char *s, size_t len)
{
  size_t depth = 0;
  for (size_t i = 0; i < len; i++)
    {
      char c = s[i];
      if (c == '\0')
        return "NUL byte in the input";
      if (c == '"')
        {
          for (i++; i < len && s[i] != '"'; i++)
            {
              if (s[i] == '\0')
                return "NUL byte in the input";
              if (s[i] != '\\')
                continue;
              if (i + 5 < len && s[i + 1] == 'u' && s[i + 2] == '0'
                  && s[i + 3] == '0' && s[i + 4] == '0' && s[i + 5] == '0')
                return "NUL character in a string";
              i++;
            }
          continue;
        }
      if (c == '/' && i + 1 < len && s[i + 1] == '*')
        {
          for (i += 2; i + 1 < len && !(s[i] == '*' && s[i + 1] == '/'); i++)
            if (s[i] == '\0')
              return "NUL byte in the input";
          i++;
          continue;
        }
      if (c == '/' && i + 1 < len && s[i + 1] == '/')
        {
          for (i += 2; i < len && s[i] != '\n'; i++)
            if (s[i] == '\0')
              return "NUL byte in the input";
          continue;
        }
      if (c == '[' || c == '{')
        {
          if (++depth > OCI_MAX_DEPTH)
            return "nesting too deep";
        }
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return NULL;
}

yajl_val
oci_json_parse (const char *name, const char *data, size_t len, ko_error **err)
{
  const char *bad = json_prescan (data, len);
  if (bad)
    {
      ko_error_setx (err, EINVAL, "%s: invalid JSON: %s", name, bad);
      return NULL;
    }

  _cleanup_free_ char *text = oci_xmalloc (len + 1);
  memcpy (text, data, len);
  text[len] = '\0';

  char errbuf[1024] = "";
  yajl_val tree = yajl_tree_parse (text, errbuf, sizeof errbuf);
  if (tree == NULL)
    {
      /* yajl's message is several lines: the reason, then the text with an
         arrow under the offending character. Keep the reason. */
      errbuf[strcspn (errbuf, "\r\n")] = '\0';
      size_t n = strlen (errbuf);
      while (n > 0 && (errbuf[n - 1] == ' ' || errbuf[n - 1] == '.'))
        errbuf[--n] = '\0';
      ko_error_setx (err, EINVAL, "%s: invalid JSON: %s", name,
                     n ? errbuf : "parse error");
      return NULL;
    }
  if (!YAJL_IS_OBJECT (tree))
    {
      yajl_tree_free (tree);
      ko_error_setx (err, EINVAL, "%s: expected an object", name);
      return NULL;
    }
  return tree;
}

/* --- field readers --- */

yajl_val
oci_obj_get (yajl_val obj, const char *key)
{
  if (!YAJL_IS_OBJECT (obj))
    return NULL;
  for (size_t i = obj->u.object.len; i > 0; i--)
    if (strcmp (obj->u.object.keys[i - 1], key) == 0)
      {
        yajl_val v = obj->u.object.values[i - 1];
        return YAJL_IS_NULL (v) ? NULL : v;
      }
  return NULL;
}

/* Looks key up and pushes it on the path. Returns 1 when present, 0 when
 * absent (the path is not pushed), -1 on a missing required member. */
static int
member (oci_parser *p, yajl_val obj, const char *key, bool required,
        yajl_val *v, size_t *mark)
{
  *v = oci_obj_get (obj, key);
  if (*v == NULL && !required)
    return 0;
  *mark = oci_path_push_key (p, key);
  if (*v == NULL)
    {
      oci_fail (p, "missing required field");
      oci_path_pop (p, *mark);
      return -1;
    }
  return 1;
}

int
oci_get_string (oci_parser *p, yajl_val obj, const char *key, bool required,
                char **out)
{
  yajl_val v;
  size_t mark;
  int r = member (p, obj, key, required, &v, &mark);
  if (r <= 0)
    return r;
  if (!YAJL_IS_STRING (v))
    r = oci_fail (p, "expected a string");
  else
    {
      free (*out);
      *out = oci_xstrdup (v->u.string);
      r = 0;
    }
  oci_path_pop (p, mark);
  return r;
}

int
oci_get_bool (oci_parser *p, yajl_val obj, const char *key, bool *has,
              bool *out)
{
  yajl_val v;
  size_t mark;
  int r = member (p, obj, key, false, &v, &mark);
  if (r <= 0)
    return r;
  if (!YAJL_IS_TRUE (v) && !YAJL_IS_FALSE (v))
    r = oci_fail (p, "expected a boolean");
  else
    {
      *out = YAJL_IS_TRUE (v);
      if (has)
        *has = true;
      r = 0;
    }
  oci_path_pop (p, mark);
  return r;
}

enum
{
  NUM_OK = 0,
  NUM_NOT_INTEGER = -1,
  NUM_RANGE = -2,
};

/* Reads the number's text: yajl's own conversion stops at INT64_MAX and
 * seccomp values go up to UINT64_MAX. */
static int
number_parse (yajl_val v, bool *negative, uint64_t *magnitude)
{
  if (!YAJL_IS_NUMBER (v) || v->u.number.r == NULL)
    return NUM_NOT_INTEGER;
  const char *s = v->u.number.r;
  *negative = *s == '-';
  if (*negative)
    s++;
  if (*s == '\0')
    return NUM_NOT_INTEGER;
  for (const char *c = s; *c; c++)
    if (*c < '0' || *c > '9')
      return NUM_NOT_INTEGER;
  errno = 0;
  char *end = NULL;
  unsigned long long m = strtoull (s, &end, 10);
  if (errno == ERANGE || *end != '\0')
    return NUM_RANGE;
  *magnitude = m;
  return NUM_OK;
}

static int
number_to_i64 (yajl_val v, int64_t min, int64_t max, int64_t *out)
{
  bool neg;
  uint64_t mag;
  int r = number_parse (v, &neg, &mag);
  if (r < 0)
    return r;
  int64_t val;
  if (neg)
    {
      if (mag > (uint64_t)INT64_MAX + 1)
        return NUM_RANGE;
      val = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    }
  else
    {
      if (mag > (uint64_t)INT64_MAX)
        return NUM_RANGE;
      val = (int64_t)mag;
    }
  if (val < min || val > max)
    return NUM_RANGE;
  *out = val;
  return NUM_OK;
}

static int
number_to_u64 (yajl_val v, uint64_t max, uint64_t *out)
{
  bool neg;
  uint64_t mag;
  int r = number_parse (v, &neg, &mag);
  if (r < 0)
    return r;
  if ((neg && mag != 0) || mag > max)
    return NUM_RANGE;
  *out = mag;
  return NUM_OK;
}

static int
number_fail (oci_parser *p, int r)
{
  return oci_fail (p, r == NUM_RANGE ? "value out of range"
                                     : "expected an integer");
}

int
oci_get_i64 (oci_parser *p, yajl_val obj, const char *key, bool required,
             bool *has, int64_t min, int64_t max, int64_t *out)
{
  yajl_val v;
  size_t mark;
  int r = member (p, obj, key, required, &v, &mark);
  if (r <= 0)
    return r;
  r = number_to_i64 (v, min, max, out);
  if (r < 0)
    r = number_fail (p, r);
  else if (has)
    *has = true;
  oci_path_pop (p, mark);
  return r;
}

int
oci_get_u64 (oci_parser *p, yajl_val obj, const char *key, bool required,
             bool *has, uint64_t max, uint64_t *out)
{
  yajl_val v;
  size_t mark;
  int r = member (p, obj, key, required, &v, &mark);
  if (r <= 0)
    return r;
  r = number_to_u64 (v, max, out);
  if (r < 0)
    r = number_fail (p, r);
  else if (has)
    *has = true;
  oci_path_pop (p, mark);
  return r;
}

int
oci_get_u32 (oci_parser *p, yajl_val obj, const char *key, bool required,
             bool *has, uint32_t *out)
{
  uint64_t v;
  bool h = false;
  if (oci_get_u64 (p, obj, key, required, &h, UINT32_MAX, &v) < 0)
    return -1;
  if (h)
    {
      *out = (uint32_t)v;
      if (has)
        *has = true;
    }
  return 0;
}

int
oci_get_u16 (oci_parser *p, yajl_val obj, const char *key, bool required,
             bool *has, uint16_t *out)
{
  uint64_t v;
  bool h = false;
  if (oci_get_u64 (p, obj, key, required, &h, UINT16_MAX, &v) < 0)
    return -1;
  if (h)
    {
      *out = (uint16_t)v;
      if (has)
        *has = true;
    }
  return 0;
}

int
oci_get_int (oci_parser *p, yajl_val obj, const char *key, bool required,
             bool *has, int min, int *out)
{
  int64_t v;
  bool h = false;
  if (oci_get_i64 (p, obj, key, required, &h, min, INT_MAX, &v) < 0)
    return -1;
  if (h)
    {
      *out = (int)v;
      if (has)
        *has = true;
    }
  return 0;
}

int
oci_get_strv (oci_parser *p, yajl_val obj, const char *key, bool required,
              char ***out, size_t *len)
{
  yajl_val v;
  size_t mark;
  int r = member (p, obj, key, required, &v, &mark);
  if (r <= 0)
    return r;
  r = 0;
  if (!YAJL_IS_ARRAY (v))
    r = oci_fail (p, "expected an array of strings");
  for (size_t i = 0; r == 0 && i < v->u.array.len; i++)
    if (!YAJL_IS_STRING (v->u.array.values[i]))
      r = oci_fail (p, "expected an array of strings");
  if (r == 0)
    {
      size_t n = v->u.array.len;
      char **strv = oci_xcalloc (n + 1, sizeof *strv);
      for (size_t i = 0; i < n; i++)
        strv[i] = oci_xstrdup (v->u.array.values[i]->u.string);
      oci_strv_free_n (*out, *len);
      *out = strv;
      *len = n;
    }
  oci_path_pop (p, mark);
  return r;
}

int
oci_get_u32v (oci_parser *p, yajl_val obj, const char *key, uint32_t **out,
              size_t *len)
{
  yajl_val v;
  size_t mark;
  int r = member (p, obj, key, false, &v, &mark);
  if (r <= 0)
    return r;
  if (!YAJL_IS_ARRAY (v))
    {
      oci_fail (p, "expected an array of integers");
      oci_path_pop (p, mark);
      return -1;
    }
  size_t n = v->u.array.len;
  _cleanup_free_ uint32_t *vals = oci_xcalloc (n, sizeof *vals);
  for (size_t i = 0; i < n; i++)
    {
      uint64_t u;
      r = number_to_u64 (v->u.array.values[i], UINT32_MAX, &u);
      if (r == NUM_NOT_INTEGER)
        oci_fail (p, "expected an array of integers");
      else if (r < 0)
        {
          oci_path_push_index (p, i);
          oci_fail (p, "value out of range");
        }
      if (r < 0)
        {
          oci_path_pop (p, mark);
          return -1;
        }
      vals[i] = (uint32_t)u;
    }
  oci_path_pop (p, mark);
  free (*out);
  *out = take_ptr (vals);
  *len = n;
  return 0;
}

int
oci_get_map (oci_parser *p, yajl_val obj, const char *key, oci_map *out)
{
  yajl_val v;
  size_t mark;
  int r = member (p, obj, key, false, &v, &mark);
  if (r <= 0)
    return r;
  if (!YAJL_IS_OBJECT (v))
    {
      oci_fail (p, "expected an object");
      oci_path_pop (p, mark);
      return -1;
    }
  size_t n = v->u.object.len;
  for (size_t i = 0; i < n; i++)
    if (!YAJL_IS_STRING (v->u.object.values[i]))
      {
        oci_path_push_key (p, v->u.object.keys[i]);
        oci_fail (p, "expected a string");
        oci_path_pop (p, mark);
        return -1;
      }
  oci_path_pop (p, mark);
  oci_map_clear (out);
  /* Repeated keys are kept in order, as in the document; oci_map_get
     returns the last, as encoding/json in Go would. */
  out->keys = oci_xcalloc (n + 1, sizeof *out->keys);
  out->values = oci_xcalloc (n + 1, sizeof *out->values);
  for (size_t i = 0; i < n; i++)
    {
      out->keys[i] = oci_xstrdup (v->u.object.keys[i]);
      out->values[i] = oci_xstrdup (v->u.object.values[i]->u.string);
    }
  out->len = n;
  return 0;
}

int
oci_get_object (oci_parser *p, yajl_val obj, const char *key, bool required,
                size_t elem_size, oci_parse_fn parse, void **out)
{
  yajl_val v;
  size_t mark;
  int r = member (p, obj, key, required, &v, &mark);
  if (r <= 0)
    return r;
  if (!YAJL_IS_OBJECT (v))
    r = oci_fail (p, "expected an object");
  else
    {
      *out = oci_xcalloc (1, elem_size);
      r = parse (p, v, *out);
    }
  oci_path_pop (p, mark);
  return r;
}

int
oci_get_array (oci_parser *p, yajl_val obj, const char *key, bool required,
               size_t elem_size, oci_parse_fn parse, void **out, size_t *len)
{
  yajl_val v;
  size_t mark;
  int r = member (p, obj, key, required, &v, &mark);
  if (r <= 0)
    return r;
  if (!YAJL_IS_ARRAY (v))
    {
      oci_fail (p, "expected an array");
      oci_path_pop (p, mark);
      return -1;
    }
  size_t n = v->u.array.len;
  char *arr = oci_xcalloc (n, elem_size);
  *out = arr;
  *len = n;
  for (size_t i = 0; i < n; i++)
    {
      size_t m = oci_path_push_index (p, i);
      yajl_val e = v->u.array.values[i];
      r = YAJL_IS_OBJECT (e) ? parse (p, e, arr + i * elem_size)
                             : oci_fail (p, "expected an object");
      if (r < 0)
        break;
      oci_path_pop (p, m);
    }
  oci_path_pop (p, mark);
  return r < 0 ? -1 : 0;
}

int
oci_get_object_map (oci_parser *p, yajl_val obj, const char *key,
                    size_t elem_size, oci_parse_fn parse, void **out,
                    size_t *len)
{
  yajl_val v;
  size_t mark;
  int r = member (p, obj, key, false, &v, &mark);
  if (r <= 0)
    return r;
  if (!YAJL_IS_OBJECT (v))
    {
      oci_fail (p, "expected an object");
      oci_path_pop (p, mark);
      return -1;
    }
  size_t n = v->u.object.len;
  char *arr = oci_xcalloc (n, elem_size);
  *out = arr;
  *len = n;
  for (size_t i = 0; i < n; i++)
    {
      size_t m = oci_path_push_key (p, v->u.object.keys[i]);
      yajl_val e = v->u.object.values[i];
      char *elem = arr + i * elem_size;
      *(char **)elem = oci_xstrdup (v->u.object.keys[i]);
      r = YAJL_IS_OBJECT (e) ? parse (p, e, elem)
                             : oci_fail (p, "expected an object");
      if (r < 0)
        break;
      oci_path_pop (p, m);
    }
  oci_path_pop (p, mark);
  return r < 0 ? -1 : 0;
}

void
oci_free_array (void *arr, size_t len, size_t elem_size, oci_fini_fn fini)
{
  if (arr == NULL)
    return;
  for (size_t i = 0; fini && i < len; i++)
    fini ((char *)arr + i * elem_size);
  free (arr);
}

/* --- output --- */

void
oci_gen_init (oci_gen *g)
{
  g->g = yajl_gen_alloc (NULL);
  if (g->g == NULL)
    abort ();
  g->failed = false;
  yajl_gen_config (g->g, yajl_gen_beautify, 1);
  yajl_gen_config (g->g, yajl_gen_indent_string, "\t");
  yajl_gen_config (g->g, yajl_gen_validate_utf8, 1);
}

char *
oci_gen_finish (oci_gen *g, const char *what, ko_error **err)
{
  const unsigned char *buf = NULL;
  size_t len = 0;
  char *text = NULL;
  if (!g->failed && yajl_gen_get_buf (g->g, &buf, &len) == yajl_gen_status_ok)
    {
      text = oci_xmalloc (len + 2);
      memcpy (text, buf, len);
      /* beautify ends the last line already in some yajl versions */
      if (len == 0 || text[len - 1] != '\n')
        text[len++] = '\n';
      text[len] = '\0';
    }
  else
    ko_error_setx (err, EINVAL, "generate %s: invalid UTF-8 in a string", what);
  yajl_gen_free (g->g);
  g->g = NULL;
  return text;
}

static void
check (oci_gen *g, yajl_gen_status st)
{
  if (st != yajl_gen_status_ok)
    g->failed = true;
}

static void
gen_key (oci_gen *g, const char *key)
{
  if (key && !g->failed)
    check (g, yajl_gen_string (g->g, (const unsigned char *)key, strlen (key)));
}

void
oci_gen_open (oci_gen *g, const char *key)
{
  gen_key (g, key);
  if (!g->failed)
    check (g, yajl_gen_map_open (g->g));
}

void
oci_gen_close (oci_gen *g)
{
  if (!g->failed)
    check (g, yajl_gen_map_close (g->g));
}

void
oci_gen_open_array (oci_gen *g, const char *key)
{
  gen_key (g, key);
  if (!g->failed)
    check (g, yajl_gen_array_open (g->g));
}

void
oci_gen_close_array (oci_gen *g)
{
  if (!g->failed)
    check (g, yajl_gen_array_close (g->g));
}

void
oci_gen_string (oci_gen *g, const char *key, const char *v)
{
  if (v == NULL)
    v = "";
  gen_key (g, key);
  if (!g->failed)
    check (g, yajl_gen_string (g->g, (const unsigned char *)v, strlen (v)));
}

void
oci_gen_string_opt (oci_gen *g, const char *key, const char *v)
{
  if (v)
    oci_gen_string (g, key, v);
}

void
oci_gen_bool (oci_gen *g, const char *key, bool v)
{
  gen_key (g, key);
  if (!g->failed)
    check (g, yajl_gen_bool (g->g, v));
}

static void
gen_number (oci_gen *g, const char *key, const char *text)
{
  gen_key (g, key);
  if (!g->failed)
    check (g, yajl_gen_number (g->g, text, strlen (text)));
}

void
oci_gen_i64 (oci_gen *g, const char *key, int64_t v)
{
  char buf[32];
  snprintf (buf, sizeof buf, "%" PRId64, v);
  gen_number (g, key, buf);
}

void
oci_gen_u64 (oci_gen *g, const char *key, uint64_t v)
{
  char buf[32];
  snprintf (buf, sizeof buf, "%" PRIu64, v);
  gen_number (g, key, buf);
}

void
oci_gen_strv (oci_gen *g, const char *key, char *const *v, size_t len,
              bool always)
{
  if (len == 0 && !always)
    return;
  oci_gen_open_array (g, key);
  for (size_t i = 0; i < len; i++)
    oci_gen_string (g, NULL, v[i]);
  oci_gen_close_array (g);
}

void
oci_gen_u32v (oci_gen *g, const char *key, const uint32_t *v, size_t len)
{
  if (len == 0)
    return;
  oci_gen_open_array (g, key);
  for (size_t i = 0; i < len; i++)
    oci_gen_u64 (g, NULL, v[i]);
  oci_gen_close_array (g);
}

void
oci_gen_map (oci_gen *g, const char *key, const oci_map *m)
{
  if (m->len == 0)
    return;
  oci_gen_open (g, key);
  for (size_t i = 0; i < m->len; i++)
    oci_gen_string (g, m->keys[i], m->values[i]);
  oci_gen_close (g);
}

void *
oci_document_parse (const char *data, size_t len, const char *name, size_t size,
                    oci_parse_fn parse, void (*free_fn) (void *),
                    ko_error **err)
{
  yajl_val tree = oci_json_parse (name, data, len, err);
  if (tree == NULL)
    return NULL;
  oci_parser p;
  oci_parser_init (&p, name, err);
  void *doc = oci_xcalloc (1, size);
  int r = parse (&p, tree, doc);
  yajl_tree_free (tree);
  if (r < 0)
    {
      free_fn (doc);
      return NULL;
    }
  return doc;
}

void *
oci_document_parse_file (const char *path, size_t size, oci_parse_fn parse,
                         void (*free_fn) (void *), ko_error **err)
{
  _cleanup_free_ char *data = NULL;
  size_t len = 0;
  if (oci_read_file (path, &data, &len, err) < 0)
    return NULL;
  return oci_document_parse (data, len, oci_basename (path), size, parse,
                             free_fn, err);
}
