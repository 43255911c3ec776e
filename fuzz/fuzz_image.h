/* How a fuzz input becomes the registry file the reaper opens; shared by
 * the libFuzzer harness (fuzz/fuzz_registry.c) and the Criterion test that
 * replays the committed inputs through the CLI
 * (tests/reaper/test_fuzz_regressions.c), so that both see the same file.
 *
 * The input is a registry image (header, entries, directories; see
 * lib/registry.h).  Three things are patched, each one a check that the
 * harness exercises separately on the raw input (registry_validate) and
 * that would otherwise stop almost every input at the door:
 *   - owner_uid becomes the running uid, and the session name the
 *     harness's session id (registry files are per uid and per session);
 *   - unless bit 0 of the header's first reserved byte is set, the image
 *     is zero-padded or cut to the size its capacities call for (up to
 *     FUZZ_IMAGE_MAX bytes), so inserting or erasing bytes still reaches
 *     the entry parser;
 *   - pids FUZZ_PID_BASE..FUZZ_PID_BASE+5 in entries (pid, ppid) and
 *     directories (pid) name the harness's helper processes (the first
 *     four: the session's) and its bystanders (the last two: not the
 *     session's), and a zero start time next to such a pid becomes that
 *     process's, so the plan builder has live processes to find and
 *     forged records have real strangers to name. */
#ifndef CHROMEREAPER_FUZZ_IMAGE_H
#define CHROMEREAPER_FUZZ_IMAGE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "registry.h"

#define FUZZ_PID_BASE 4194000
#define FUZZ_HELPERS 6 /* the harness's 4 helpers, then its 2 bystanders */
#define FUZZ_IMAGE_MAX (1u << 21)

struct fuzz_helpers {
    int n;
    pid_t pid[FUZZ_HELPERS];
    uint64_t start[FUZZ_HELPERS];
};

static inline int fuzz_helper_of(const struct fuzz_helpers *h, int32_t pid)
{
    if (!h || pid < FUZZ_PID_BASE || pid >= FUZZ_PID_BASE + h->n)
        return -1;
    return pid - FUZZ_PID_BASE;
}

/* A malloc'd image for `data`, its size in *out_size (never NULL unless
 * out of memory). */
static inline unsigned char *fuzz_image(const uint8_t *data, size_t size, uint32_t uid,
                                        const char *session, const struct fuzz_helpers *h,
                                        size_t *out_size)
{
    size_t n = size;
    struct cr_registry_header hdr;
    if (size >= CR_HEADER_SIZE) {
        memcpy(&hdr, data, sizeof hdr);
        size_t want = registry_size_for(hdr.entry_capacity, hdr.dir_capacity);
        if (!(hdr.reserved[0] & 1) && hdr.entry_capacity <= CR_ENTRY_CAPACITY_MAX &&
            hdr.dir_capacity <= CR_DIR_CAPACITY_MAX && want <= FUZZ_IMAGE_MAX)
            n = want;
    }
    unsigned char *img = calloc(1, n ? n : 1);
    if (!img)
        return NULL;
    memcpy(img, data, size < n ? size : n);
    *out_size = n;
    if (n < CR_HEADER_SIZE)
        return img;
    struct cr_registry_header *ph = (struct cr_registry_header *)img;
    ph->owner_uid = uid;
    memset(ph->session, 0, sizeof ph->session);
    memcpy(ph->session, session, strnlen(session, sizeof ph->session - 1));

    /* the helpers, wherever whole slots fit in the image */
    uint64_t ecap = ph->entry_capacity, dcap = ph->dir_capacity;
    for (uint64_t i = 0; i < ecap; i++) {
        size_t off = CR_HEADER_SIZE + (size_t)i * CR_ENTRY_SIZE;
        if (off + CR_ENTRY_SIZE > n)
            break;
        struct cr_entry e;
        memcpy(&e, img + off, sizeof e);
        int k = fuzz_helper_of(h, e.pid);
        if (k >= 0) {
            e.pid = h->pid[k];
            if (e.start_time == 0)
                e.start_time = h->start[k];
        }
        if ((k = fuzz_helper_of(h, e.ppid)) >= 0)
            e.ppid = h->pid[k];
        memcpy(img + off, &e, sizeof e);
    }
    for (uint64_t i = 0; i < dcap; i++) {
        size_t off = CR_HEADER_SIZE + (size_t)ecap * CR_ENTRY_SIZE + (size_t)i * CR_DIR_SIZE;
        if (ecap > n || off + CR_DIR_SIZE > n)
            break;
        struct cr_dir d;
        memcpy(&d, img + off, sizeof d);
        int k = fuzz_helper_of(h, d.pid);
        if (k >= 0) {
            d.pid = h->pid[k];
            if (d.start_time == 0)
                d.start_time = h->start[k];
            memcpy(img + off, &d, sizeof d);
        }
    }
    return img;
}

#endif
