/* Internal: the pieces of the config.json parser and generator shared by
 * the per-object source files. */
#ifndef KO_OCI_SPEC_INTERNAL_H
#define KO_OCI_SPEC_INTERNAL_H

#include "oci-json.h"
#include "oci.h"
#include "util.h"

int oci_get_id_mappings (oci_parser *p, yajl_val obj, const char *key,
                         oci_id_mapping **out, size_t *len);
void oci_free_id_mappings (oci_id_mapping *m, size_t len);
void oci_gen_id_mappings (oci_gen *g, const char *key, const oci_id_mapping *m,
                          size_t len);

int oci_process_parse (oci_parser *p, yajl_val v, void *out);
void oci_process_gen (oci_gen *g, const char *key, const oci_process *proc);

int oci_linux_resources_parse (oci_parser *p, yajl_val v, void *out);
void oci_linux_resources_gen (oci_gen *g, const char *key,
                              const oci_linux_resources *r);

#endif
