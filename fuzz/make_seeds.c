/* Writes the seed corpus of fuzz/fuzz_registry.c into the directory given
 * (fuzz/corpus/ is its committed output; `make fuzz-seeds` rebuilds it).
 * Small registries (a few entries, one or two directories) so that inputs
 * stay small; pids FUZZ_PID_BASE+k become the harness's helper processes
 * (fuzz_image.h), others name no live process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_image.h"
#include "registry.h"
#include "role.h"

struct image {
    unsigned char *buf;
    size_t size;
    struct cr_registry_header *h;
    struct cr_entry *e;
    struct cr_dir *d;
};

static void image_new(struct image *im, uint32_t entries, uint32_t dirs)
{
    im->size = registry_size_for(entries, dirs);
    im->buf = calloc(1, im->size);
    if (!im->buf)
        abort();
    im->h = (struct cr_registry_header *)im->buf;
    im->e = (struct cr_entry *)(im->buf + CR_HEADER_SIZE);
    im->d = (struct cr_dir *)(im->buf + CR_HEADER_SIZE + (size_t)entries * CR_ENTRY_SIZE);
    memcpy(im->h->magic, CR_REGISTRY_MAGIC, sizeof im->h->magic);
    im->h->version = CR_REGISTRY_VERSION;
    im->h->header_size = CR_HEADER_SIZE;
    im->h->entry_size = CR_ENTRY_SIZE;
    im->h->entry_capacity = entries;
    im->h->dir_size = CR_DIR_SIZE;
    im->h->dir_capacity = dirs;
    im->h->created_unix = 1700000000;
    strcpy(im->h->session, "crfuzz");
}

/* Commits an entry with sequence number seq into slot i. */
static void entry(struct image *im, uint32_t i, uint64_t seq, enum cr_slot_state state, int32_t pid,
                  int32_t ppid, uint32_t seen, uint32_t role, const char *exe)
{
    struct cr_entry *e = &im->e[i];
    e->state = CR_SLOT_WORD(state, seq);
    e->seq = seq;
    e->pid = pid;
    e->ppid = ppid;
    e->seen_by = seen;
    e->role = role;
    e->start_time = pid >= FUZZ_PID_BASE ? 0 : 1000 + (uint64_t)pid;
    strncpy(e->exe, exe, sizeof e->exe - 1);
    if (seq + 1 > im->h->entry_next)
        im->h->entry_next = seq + 1;
}

static void dir(struct image *im, uint32_t i, uint64_t seq, int32_t pid, uint32_t origin,
                uint32_t flags, const char *path)
{
    struct cr_dir *d = &im->d[i];
    d->state = CR_SLOT_WORD(CR_SLOT_COMMITTED, seq);
    d->seq = seq;
    d->pid = pid;
    d->origin = origin;
    d->flags = flags;
    strncpy(d->path, path, sizeof d->path - 1);
    if (seq + 1 > im->h->dir_next)
        im->h->dir_next = seq + 1;
}

static void save(const char *dirpath, const char *name, struct image *im)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dirpath, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(im->buf, 1, im->size, f) != im->size || fclose(f) != 0) {
        perror(p);
        exit(1);
    }
    free(im->buf);
}

#define B FUZZ_PID_BASE
#define CHROMIUM "/usr/lib/chromium/chromium"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    const char *out = argv[1];
    struct image im;

    /* a fresh registry: nothing recorded yet */
    image_new(&im, 4, 2);
    save(out, "empty-4x2", &im);

    /* a bot (helper 0, the root) that started chromedriver, which started
     * chromium with a renderer under it; a crashpad daemon long gone; a
     * mkdtemp directory and a --user-data-dir that was absent at launch */
    image_new(&im, 8, 2);
    im.h->root_pid = B;
    entry(&im, 0, 0, CR_SLOT_COMMITTED, B, 1, CR_SEEN_ROOT, CR_ROLE_OTHER, "/usr/bin/python3");
    entry(&im, 1, 1, CR_SLOT_COMMITTED, B + 1, B, CR_SEEN_SPAWN, CR_ROLE_DRIVER, "/usr/bin/chromedriver");
    entry(&im, 2, 2, CR_SLOT_COMMITTED, B + 1, B, CR_SEEN_EXEC, CR_ROLE_DRIVER, "/usr/bin/chromedriver");
    entry(&im, 3, 3, CR_SLOT_COMMITTED, B + 2, B + 1, CR_SEEN_SPAWN, CR_ROLE_BROWSER, CHROMIUM);
    entry(&im, 4, 4, CR_SLOT_COMMITTED, B + 3, B + 2, CR_SEEN_FORK, CR_ROLE_RENDERER, CHROMIUM);
    entry(&im, 5, 5, CR_SLOT_COMMITTED, 4321, 1, CR_SEEN_CONSTRUCTOR, CR_ROLE_CRASHPAD,
          "/usr/lib/chromium/chrome_crashpad_handler");
    dir(&im, 0, 0, B + 2, CR_DIR_MKDTEMP, 0, "/tmp/.org.chromium.Chromium.crfuzz0");
    dir(&im, 1, 1, B + 2, CR_DIR_USER_DATA_DIR, CR_DIR_ABSENT_AT_LAUNCH, "/tmp/crfuzz-profile");
    save(out, "tree-8x2", &im);

    /* a long-running bot: the counter is far past the capacity, reaped and
     * freed slots, a slot a killed writer left reserved, refused appends */
    image_new(&im, 4, 1);
    im.h->root_pid = B;
    entry(&im, 0, 40, CR_SLOT_COMMITTED, B, 0, CR_SEEN_ROOT, CR_ROLE_OTHER, "/usr/bin/node");
    entry(&im, 1, 41, CR_SLOT_REAPED, 555, B, CR_SEEN_SPAWN, CR_ROLE_BROWSER, CHROMIUM);
    entry(&im, 2, 43, CR_SLOT_COMMITTED, B + 1, B, CR_SEEN_SPAWN, CR_ROLE_BROWSER, CHROMIUM);
    im.e[3].state = CR_SLOT_RESERVED;
    im.e[3].pid = 0;
    im.h->entry_next = 47;
    im.h->entry_overflow = 2;
    im.h->rounds_reaped = 9;
    im.h->processes_reaped = 61;
    dir(&im, 0, 12, B + 1, CR_DIR_MKDTEMP, 0, "/tmp/.org.chromium.Chromium.crfuzz1");
    im.h->dir_next = 13;
    save(out, "recycled-4x1", &im);

    /* a sandboxed zygote recorded from inside its PID namespace, and two
     * driver rounds side by side */
    image_new(&im, 8, 1);
    im.h->root_pid = B;
    entry(&im, 0, 0, CR_SLOT_COMMITTED, B, 1, CR_SEEN_ROOT, CR_ROLE_OTHER, "/usr/bin/python3");
    entry(&im, 1, 1, CR_SLOT_COMMITTED, B + 1, B, CR_SEEN_SPAWN, CR_ROLE_DRIVER, "/usr/bin/chromedriver");
    entry(&im, 2, 2, CR_SLOT_COMMITTED, B + 2, B + 1, CR_SEEN_FORK, CR_ROLE_BROWSER, CHROMIUM);
    entry(&im, 3, 3, CR_SLOT_COMMITTED, 1, 0, CR_SEEN_CONSTRUCTOR, CR_ROLE_ZYGOTE, CHROMIUM);
    im.e[3].flags = CR_ENTRY_PIDNS;
    entry(&im, 4, 4, CR_SLOT_COMMITTED, 2, 1, CR_SEEN_FORK, CR_ROLE_RENDERER, CHROMIUM);
    im.e[4].flags = CR_ENTRY_PIDNS;
    entry(&im, 5, 5, CR_SLOT_COMMITTED, 7001, B, CR_SEEN_SPAWN, CR_ROLE_DRIVER, "/usr/bin/chromedriver");
    entry(&im, 6, 6, CR_SLOT_COMMITTED, 7002, 7001, CR_SEEN_SPAWN, CR_ROLE_BROWSER, CHROMIUM);
    entry(&im, 7, 7, CR_SLOT_COMMITTED, B + 3, 7002, CR_SEEN_FORK, CR_ROLE_GPU, CHROMIUM);
    dir(&im, 0, 0, 7002, CR_DIR_MKDTEMP, 0, "/tmp/.org.chromium.Chromium.crfuzz2");
    save(out, "pidns-rounds-8x1", &im);

    /* creator links that form a cycle (pid reuse can look like this) */
    image_new(&im, 4, 0);
    entry(&im, 0, 0, CR_SLOT_COMMITTED, B + 1, B + 2, CR_SEEN_FORK, CR_ROLE_BROWSER, CHROMIUM);
    entry(&im, 1, 1, CR_SLOT_COMMITTED, B + 2, B + 1, CR_SEEN_FORK, CR_ROLE_BROWSER, CHROMIUM);
    entry(&im, 2, 2, CR_SLOT_COMMITTED, B + 3, B + 3, CR_SEEN_SPAWN, CR_ROLE_RENDERER, CHROMIUM);
    save(out, "cycle-4x0", &im);
    /* forged records: a session process claims the two bystanders (no
     * cookie; another session's cookie) as its browser and renderer, makes
     * them a round of their own, names the bystander as root in the header,
     * and claims the victim directory (made before the session) as a
     * mkdtemp and a --user-data-dir */
    image_new(&im, 8, 2);
    im.h->root_pid = B + 4;
    entry(&im, 0, 0, CR_SLOT_COMMITTED, B, 1, CR_SEEN_CONSTRUCTOR, CR_ROLE_OTHER, "/usr/bin/python3");
    entry(&im, 1, 1, CR_SLOT_COMMITTED, B + 4, B, CR_SEEN_SPAWN, CR_ROLE_DRIVER, "/usr/bin/chromedriver");
    entry(&im, 2, 2, CR_SLOT_COMMITTED, B + 4, B, CR_SEEN_EXEC, CR_ROLE_BROWSER, CHROMIUM);
    entry(&im, 3, 3, CR_SLOT_COMMITTED, B + 5, B + 4, CR_SEEN_FORK, CR_ROLE_RENDERER, CHROMIUM);
    entry(&im, 4, 4, CR_SLOT_COMMITTED, B + 3, B + 5, CR_SEEN_CONSTRUCTOR, CR_ROLE_CRASHPAD,
          "/usr/lib/chromium/chrome_crashpad_handler");
    dir(&im, 0, 0, B + 4, CR_DIR_MKDTEMP, 0, "/tmp/crfuzz-victim");
    dir(&im, 1, 1, B + 5, CR_DIR_USER_DATA_DIR, CR_DIR_ABSENT_AT_LAUNCH, "/tmp/crfuzz-victim");
    save(out, "forged-8x2", &im);

    return 0;
}
