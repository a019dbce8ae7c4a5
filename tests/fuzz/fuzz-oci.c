/* libFuzzer target: every parser that reads files the user hands us
   (config.json, exec --process, update --resources), then the generator
   on whatever parsed, then the generated text back through the parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
must_reparse (char *text,
              void *(*parse) (const char *, size_t, const char *, ko_error **),
              void (*fr) (void *))
{
  ko_error *err = NULL;
  if (text == NULL)
    return;
  void *again = parse (text, strlen (text), "generated", &err);
  /* What we generate from a parsed document must parse. */
  if (again == NULL)
    abort ();
  fr (again);
  free (text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = (const char *)data;
  ko_error *err = NULL;

  oci_spec *s = oci_spec_parse_data (text, size, "config.json", &err);
  if (s)
    {
      must_reparse (oci_spec_generate (s, &err),
                    (void *(*)(const char *, size_t, const char *,
                               ko_error **))oci_spec_parse_data,
                    (void (*) (void *))oci_spec_free);
      oci_spec_free (s);
    }
  ko_error_free (err);
  err = NULL;

  oci_process *p = oci_process_parse_data (text, size, "process.json", &err);
  if (p)
    {
      must_reparse (oci_process_generate (p, &err),
                    (void *(*)(const char *, size_t, const char *,
                               ko_error **))oci_process_parse_data,
                    (void (*) (void *))oci_process_free);
      oci_process_free (p);
    }
  ko_error_free (err);
  err = NULL;

  oci_linux_resources *r
      = oci_linux_resources_parse_data (text, size, "resources.json", &err);
  if (r)
    {
      must_reparse (oci_linux_resources_generate (r, &err),
                    (void *(*)(const char *, size_t, const char *,
                               ko_error **))oci_linux_resources_parse_data,
                    (void (*) (void *))oci_linux_resources_free);
      oci_linux_resources_free (r);
    }
  ko_error_free (err);
  err = NULL;

  oci_state *st = oci_state_parse_data (text, size, "state.json", &err);
  if (st)
    {
      must_reparse (oci_state_generate (st, &err),
                    (void *(*)(const char *, size_t, const char *,
                               ko_error **))oci_state_parse_data,
                    (void (*) (void *))oci_state_free);
      oci_state_free (st);
    }
  ko_error_free (err);
  return 0;
}
