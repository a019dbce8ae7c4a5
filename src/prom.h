/* The Prometheus text exposition format, version 0.0.4: a family is its
 * "# HELP" and "# TYPE" lines followed by all of its samples, one a line:
 * NAME{label="value",...} VALUE. Pure: writes into a ko_buf. */
#ifndef KO_PROM_H
#define KO_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "proto.h"

#define KO_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define KO_PROM_MAX_LABELS 8

struct ko_prom_label
{
  const char *name;
  const char *value; /* NULL: the label is left out */
};

/* Labels in the order given; a sample's own are appended to a shared set. */
struct ko_prom_labels
{
  struct ko_prom_label v[KO_PROM_MAX_LABELS];
  size_t n;
};
/* -1 past KO_PROM_MAX_LABELS */
int ko_prom_labels_add (struct ko_prom_labels *l, const char *name,
                        const char *value);

/* Whether name is a metric name / a label name Prometheus takes. */
int ko_prom_name_ok (const char *name);
int ko_prom_label_name_ok (const char *name);

/* type: counter, gauge or histogram. -1 with *err for a bad name or type,
 * or when out of memory. */
int ko_prom_family (struct ko_buf *b, const char *name, const char *type,
                    const char *help, ko_error **err);
/* A sample of name (the family's, or its _bucket/_sum/_count) with labels
 * (NULL: none); values as integers, as seconds from nanoseconds (exact
 * decimals), or as a double. */
int ko_prom_u64 (struct ko_buf *b, const char *name,
                 const struct ko_prom_labels *labels, uint64_t v,
                 ko_error **err);
int ko_prom_ns (struct ko_buf *b, const char *name,
                const struct ko_prom_labels *labels, uint64_t ns,
                ko_error **err);
int ko_prom_double (struct ko_buf *b, const char *name,
                    const struct ko_prom_labels *labels, double v,
                    ko_error **err);

#endif
