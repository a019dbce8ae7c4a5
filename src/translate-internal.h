/* Between the parts of translate.c; not for use elsewhere. */
#ifndef KO_TRANSLATE_INTERNAL_H
#define KO_TRANSLATE_INTERNAL_H

#include "blockdev.h"
#include "msg.h"
#include "oci.h"
#include "translate.h"

/* mounts[idx] -> a guest mount, and a bind into the share when it is one
 * (translate-mounts.c). */
int translate_mount (const oci_mount *m, size_t idx, const char *bundle,
                     const char *rootfs, const char *id, struct ko_mount *out,
                     struct share_bind **binds, size_t *nbinds,
                     const oci_spec *spec, struct ko_disks *disks,
                     ko_error **err);

/* A propagation name (shared, rslave, ...) -> its MS_* flags: -1 when
 * unknown. */
int propagation_flags (const char *name, uint64_t *out);

#endif
