/* Internal: reading JSON documents with the yajl tree API, reporting where a
 * field is wrong, and writing JSON with yajl_gen. Not for the CLI. */
#ifndef KO_OCI_JSON_H
#define KO_OCI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "error.h"
#include "oci.h"

/* Deeper documents are refused before yajl builds a tree: yajl_tree_free
 * recurses, and no OCI document nests more than a handful of levels. */
#define OCI_MAX_DEPTH 256
#define OCI_MAX_FILE_SIZE (64 * 1024 * 1024)

/* Allocation failure aborts, as in crun: these documents are small. */
void *oci_xmalloc (size_t n);
void *oci_xcalloc (size_t n, size_t size);
char *oci_xstrdup (const char *s);
/* A NULL-terminated copy of the first len strings of v (len may be 0). */
char **oci_strv_dup (const char *const *v, size_t len);
void oci_strv_free_n (char **v, size_t len);

typedef struct oci_parser
{
  const char *name; /* document name, the message prefix */
  ko_error **err;
  char path[512]; /* field being read: "linux.resources.memory.limit" */
  size_t len;
} oci_parser;

void oci_parser_init (oci_parser *p, const char *name, ko_error **err);
size_t oci_path_push_key (oci_parser *p, const char *key);
size_t oci_path_push_index (oci_parser *p, size_t i);
void oci_path_pop (oci_parser *p, size_t mark);
/* "<name>: <path>: <what>", status EINVAL. Returns -1. */
int oci_fail (oci_parser *p, const char *what);

/* Reads the whole file; the name for messages is its basename. */
int oci_read_file (const char *path, char **data, size_t *len, ko_error **err);
const char *oci_basename (const char *path);
/* Parses data into a tree whose top level is an object, or fails with
 * "<name>: invalid JSON: ..." / "<name>: expected an object". */
yajl_val oci_json_parse (const char *name, const char *data, size_t len,
                         ko_error **err);

/* The member named key (the last one if repeated), NULL when absent or null. */
yajl_val oci_obj_get (yajl_val obj, const char *key);

/* Field readers: absent fields leave *out untouched (and *has false), or fail
 * with "missing required field" when required. Return 0 or -1. */
int oci_get_string (oci_parser *p, yajl_val obj, const char *key, bool required,
                    char **out);
int oci_get_bool (oci_parser *p, yajl_val obj, const char *key, bool *has,
                  bool *out);
int oci_get_i64 (oci_parser *p, yajl_val obj, const char *key, bool required,
                 bool *has, int64_t min, int64_t max, int64_t *out);
int oci_get_u64 (oci_parser *p, yajl_val obj, const char *key, bool required,
                 bool *has, uint64_t max, uint64_t *out);
int oci_get_u32 (oci_parser *p, yajl_val obj, const char *key, bool required,
                 bool *has, uint32_t *out);
int oci_get_u16 (oci_parser *p, yajl_val obj, const char *key, bool required,
                 bool *has, uint16_t *out);
int oci_get_int (oci_parser *p, yajl_val obj, const char *key, bool required,
                 bool *has, int min, int *out);
int oci_get_strv (oci_parser *p, yajl_val obj, const char *key, bool required,
                  char ***out, size_t *len);
int oci_get_u32v (oci_parser *p, yajl_val obj, const char *key, uint32_t **out,
                  size_t *len);
int oci_get_map (oci_parser *p, yajl_val obj, const char *key, oci_map *out);

typedef int (*oci_parse_fn) (oci_parser *p, yajl_val v, void *out);

/* One standalone document: parse JSON text into a new object of `size`
 * bytes with `parse`, or free it with `free_fn` and return NULL. */
void *oci_document_parse (const char *data, size_t len, const char *name,
                          size_t size, oci_parse_fn parse,
                          void (*free_fn) (void *), ko_error **err);
/* The same from a file; messages are prefixed with the file's basename. */
void *oci_document_parse_file (const char *path, size_t size,
                               oci_parse_fn parse, void (*free_fn) (void *),
                               ko_error **err);
typedef void (*oci_fini_fn) (void *elem);

/* An optional object member: allocates *out (elem_size bytes, zeroed) and
 * fills it with parse; the partial result stays in *out on failure. */
int oci_get_object (oci_parser *p, yajl_val obj, const char *key, bool required,
                    size_t elem_size, oci_parse_fn parse, void **out);
/* An array of objects; *out and *len cover every element allocated, also on
 * failure, so the owner's free releases them. */
int oci_get_array (oci_parser *p, yajl_val obj, const char *key, bool required,
                   size_t elem_size, oci_parse_fn parse, void **out,
                   size_t *len);
/* An object of objects ("rdma", "timeOffsets"): each element's first member
 * is a char * that receives the key. */
int oci_get_object_map (oci_parser *p, yajl_val obj, const char *key,
                        size_t elem_size, oci_parse_fn parse, void **out,
                        size_t *len);
void oci_free_array (void *arr, size_t len, size_t elem_size, oci_fini_fn fini);

/* Writer with a sticky failure flag, so generators read straight through. */
typedef struct oci_gen
{
  yajl_gen g;
  bool failed;
} oci_gen;

void oci_gen_init (oci_gen *g);
/* The text (with a final newline), or NULL and "generate <what>: ...". */
char *oci_gen_finish (oci_gen *g, const char *what, ko_error **err);
/* key may be NULL inside arrays. */
void oci_gen_open (oci_gen *g, const char *key);
void oci_gen_close (oci_gen *g);
void oci_gen_open_array (oci_gen *g, const char *key);
void oci_gen_close_array (oci_gen *g);
/* Writes "" for NULL: for required members. */
void oci_gen_string (oci_gen *g, const char *key, const char *v);
/* Skipped when v is NULL. */
void oci_gen_string_opt (oci_gen *g, const char *key, const char *v);
void oci_gen_bool (oci_gen *g, const char *key, bool v);
void oci_gen_i64 (oci_gen *g, const char *key, int64_t v);
void oci_gen_u64 (oci_gen *g, const char *key, uint64_t v);
/* Skipped when empty unless always. */
void oci_gen_strv (oci_gen *g, const char *key, char *const *v, size_t len,
                   bool always);
void oci_gen_u32v (oci_gen *g, const char *key, const uint32_t *v, size_t len);
/* Skipped when empty. */
void oci_gen_map (oci_gen *g, const char *key, const oci_map *m);

#endif
