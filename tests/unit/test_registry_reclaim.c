/* Slot reclamation: the reaper marks reaped entries, frees them when the
 * table fills, and writers reuse freed slots; nobody frees or reads a slot
 * that was reused under them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry.h"
#include "unit_support.h"

TestSuite(reclaim, .fini = ut_cleanup);

Test(reclaim, freed_slots_are_reused_and_sequence_keeps_order)
{
    struct cr_registry reg;
    char session[CR_SESSION_MAX];
    ut_registry_create(&reg, session, 4, 2);
    struct cr_entry e, out;
    for (int i = 0; i < 4; i++) {
        ut_entry_make(&e, 10 + i, i);
        cr_assert_eq(registry_append(&reg, &e), i);
    }
    ut_entry_make(&e, 20, 0);
    cr_assert_eq(registry_append(&reg, &e), -1, "full");
    cr_assert_eq(registry_overflow(&reg), 1u);

    /* slots 1 and 2: reaped, then freed */
    for (uint32_t i = 1; i <= 2; i++) {
        cr_assert(registry_entry_read(&reg, i, &out));
        cr_assert(registry_entry_transition(&reg, i, out.seq, CR_SLOT_COMMITTED, CR_SLOT_REAPED));
        cr_assert(registry_entry_read(&reg, i, &out), "a reaped entry is still readable");
        cr_assert_eq(CR_SLOT_STATE(out.state), CR_SLOT_REAPED);
        cr_assert_not(registry_entry_transition(&reg, i, out.seq + 1, CR_SLOT_REAPED, CR_SLOT_EMPTY),
                      "a wrong sequence number frees nothing");
        cr_assert(registry_entry_transition(&reg, i, out.seq, CR_SLOT_REAPED, CR_SLOT_EMPTY));
        cr_assert_not(registry_entry_read(&reg, i, &out));
    }
    uint64_t last_seq = 0;
    for (int k = 0; k < 2; k++) {
        ut_entry_make(&e, 30 + k, k);
        int64_t slot = registry_append(&reg, &e);
        cr_assert(slot == 1 || slot == 2, "slot %lld", (long long)slot);
        cr_assert(registry_entry_read(&reg, (uint32_t)slot, &out));
        cr_assert(ut_entry_check(&out));
        cr_assert_gt(out.seq, 4u, "later appends carry later sequence numbers");
        cr_assert_gt(out.seq, last_seq);
        last_seq = out.seq;
    }
    ut_entry_make(&e, 40, 0);
    cr_assert_eq(registry_append(&reg, &e), -1, "full again");
    cr_assert_eq(registry_entry_count(&reg), 4u);
    registry_close(&reg);
}

Test(reclaim, a_reused_slot_is_not_freed_by_a_stale_sequence)
{
    struct cr_registry reg;
    char session[CR_SESSION_MAX];
    ut_registry_create(&reg, session, 1, 1);
    struct cr_entry e, first, second;
    ut_entry_make(&e, 5, 1);
    cr_assert_eq(registry_append(&reg, &e), 0);
    cr_assert(registry_entry_read(&reg, 0, &first));
    cr_assert(registry_entry_transition(&reg, 0, first.seq, CR_SLOT_COMMITTED, CR_SLOT_EMPTY));
    ut_entry_make(&e, 6, 2);
    cr_assert_eq(registry_append(&reg, &e), 0);
    cr_assert(registry_entry_read(&reg, 0, &second));
    cr_assert_neq(first.seq, second.seq);
    cr_assert_not(registry_entry_transition(&reg, 0, first.seq, CR_SLOT_COMMITTED, CR_SLOT_REAPED));
    cr_assert_not(registry_entry_transition(&reg, 0, first.seq, CR_SLOT_COMMITTED, CR_SLOT_EMPTY));
    cr_assert(registry_entry_read(&reg, 0, &second), "the new entry is untouched");
    cr_assert_eq(second.pid, 6);

    struct cr_dir d, dout;
    memset(&d, 0, sizeof d);
    d.pid = 9;
    d.origin = CR_DIR_MKDTEMP;
    strcpy(d.path, "/tmp/a");
    cr_assert_eq(registry_append_dir(&reg, &d), 0);
    cr_assert_eq(registry_append_dir(&reg, &d), -1);
    cr_assert(registry_dir_read(&reg, 0, &dout));
    cr_assert(registry_dir_transition(&reg, 0, dout.seq, CR_SLOT_COMMITTED, CR_SLOT_EMPTY));
    cr_assert_eq(registry_append_dir(&reg, &d), 0, "a freed directory slot is reused");
    registry_close(&reg);
}

/* A mkdtemp record of a directory made now, with its identity. */
static void dir_made(struct cr_dir *d, char *tmpl)
{
    cr_assert_not_null(mkdtemp(tmpl));
    ut_track_path(tmpl);
    struct stat st;
    cr_assert_eq(stat(tmpl, &st), 0);
    memset(d, 0, sizeof *d);
    d->pid = 9;
    d->origin = CR_DIR_MKDTEMP;
    d->dev = (uint64_t)st.st_dev;
    d->ino = (uint64_t)st.st_ino;
    strcpy(d->path, tmpl);
}

/* A full directory table takes the slot of a directory verifiably gone
 * (removed, or another inode at its path), never one that still exists. */
Test(reclaim, a_full_directory_table_reuses_the_slot_of_a_removed_directory)
{
    struct cr_registry reg;
    char session[CR_SESSION_MAX];
    ut_registry_create(&reg, session, 4, 2);
    char kept[] = "/tmp/crtest-kept-XXXXXX", removed[] = "/tmp/crtest-removed-XXXXXX",
         next[] = "/tmp/crtest-next-XXXXXX", last[] = "/tmp/crtest-last-XXXXXX";
    struct cr_dir d, out;
    dir_made(&d, kept);
    cr_assert_eq(registry_append_dir(&reg, &d), 0);
    dir_made(&d, removed);
    cr_assert_eq(registry_append_dir(&reg, &d), 1);
    cr_assert_eq(rmdir(removed), 0);
    dir_made(&d, next);
    cr_assert_eq(registry_append_dir(&reg, &d), 1, "the removed directory's slot was not reused");
    cr_assert(registry_dir_read(&reg, 0, &out));
    cr_assert_str_eq(out.path, kept, "a live directory's record was overwritten");
    cr_assert(registry_dir_read(&reg, 1, &out));
    cr_assert_str_eq(out.path, next);
    cr_assert_eq(registry_overflow(&reg), 0u);
    /* both directories exist: nothing to take */
    dir_made(&d, last);
    cr_assert_eq(registry_append_dir(&reg, &d), -1);
    cr_assert_eq(registry_overflow(&reg), 1u);
    /* another inode at the path is not the recorded directory */
    char other[] = "/tmp/crtest-other-XXXXXX"; /* made while `next` exists: another inode */
    cr_assert_not_null(mkdtemp(other));
    cr_assert_eq(rmdir(next), 0);
    cr_assert_eq(rename(other, next), 0);
    cr_assert_eq(registry_append_dir(&reg, &d), 1, "a directory replaced by another was kept");
    registry_close(&reg);
}
