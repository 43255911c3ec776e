/* reaper/reaprules.c: when what the scan read belongs to the process a
 * pidfd pins, and when a record's process is dead after a reap, as tables. */
#include <criterion/criterion.h>

#include "../../reaper/reaprules.h"

/* Each row of a table: its facts, the verdict wanted, what it is. */
#define EXPECT_ROWS(rows, judge, name)                                                                  \
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {                                          \
        int got = (int)judge(&rows[i].f);                                                               \
        cr_expect_eq(got, (int)rows[i].want, "%s: got %s, want %s", rows[i].what, name(got), name(rows[i].want)); \
    }

static const char *pin_name(int v)
{
    return v == PIN_KEEP ? "keep" : v == PIN_UNPINNED ? "unpinned" : "skip";
}

struct pin_row {
    const char *what;
    struct pin_facts f;
    enum pin_verdict want;
};

static const struct pin_row pin_rows[] = {
    {"pinned, still its pid, the session's uid: its stat read when needed",
     {.pinned = 1, .info_read = 1, .same_uid = 1}, PIN_KEEP},
    {"pinned, another uid that became the session's while its stat was read",
     {.pinned = 1, .stat_read = 1, .info_read = 1, .same_uid = 1}, PIN_KEEP},
    {"pinned, then reaped: no node", {.pinned = 1, .info_gone = 1}, PIN_SKIP},
    {"pinned and read, then reaped: the stat may be a successor's",
     {.pinned = 1, .stat_read = 1, .info_gone = 1}, PIN_SKIP},
    {"pinned, another uid: never a target, no descriptor held",
     {.pinned = 1, .stat_read = 1, .info_read = 1}, PIN_UNPINNED},
    {"pinned, a kernel without PIDFD_GET_INFO", {.pinned = 1, .stat_read = 1}, PIN_UNPINNED},
    {"no pidfd (budget spent, old kernel)", {.stat_read = 1}, PIN_UNPINNED},
    {"no such process when pinned", {.open_gone = 1}, PIN_SKIP},
    {"pinned, another uid, exited before its stat was read", {.pinned = 1, .info_read = 1}, PIN_SKIP},
    {"pinned, a kernel without PIDFD_GET_INFO, exited before its stat was read", {.pinned = 1}, PIN_SKIP},
    {"unpinned, exited before its stat was read", {0}, PIN_SKIP},
};

Test(reaprules, what_was_read_is_the_pinned_process_only_if_it_kept_its_pid)
{
    EXPECT_ROWS(pin_rows, pin_judge, pin_name);
}

/* Whatever else holds, a pidfd is kept only for a process that still held
 * its pid when the kernel answered for it, and a node without one only
 * for what was read. */
Test(reaprules, no_pin_is_kept_without_proof)
{
    for (unsigned bits = 0; bits < (1u << 6); bits++) {
        struct pin_facts f = {
            .pinned = bits & 1,          .open_gone = (bits >> 1) & 1, .stat_read = (bits >> 2) & 1,
            .info_read = (bits >> 3) & 1, .info_gone = (bits >> 4) & 1, .same_uid = (bits >> 5) & 1,
        };
        enum pin_verdict v = pin_judge(&f);
        if (v == PIN_KEEP)
            cr_assert(f.pinned && f.info_read && !f.info_gone && f.same_uid && !f.open_gone, "bits %#x kept", bits);
        if (v == PIN_UNPINNED)
            cr_assert(f.stat_read, "bits %#x: a node without a pidfd is what its stat said", bits);
        if (f.info_gone || f.open_gone)
            cr_assert_eq(v, PIN_SKIP, "bits %#x", bits);
    }
}

static const char *record_name(int v)
{
    return v == RECORD_REAPED ? "reaped" : v == RECORD_KEEP ? "keep" : "check";
}

struct record_row {
    const char *what;
    struct record_facts f;
    enum record_verdict want;
};

static const struct record_row record_rows[] = {
    {"a target its pidfd saw die", {.seen = 1, .target = 1, .target_dead = 1}, RECORD_REAPED},
    {"a target that survived SIGKILL", {.seen = 1, .target = 1}, RECORD_KEEP},
    {"gone before the scan (death is for good)", {0}, RECORD_REAPED},
    {"its pid taken by another process before the scan", {.seen = 0, .pinned = 1}, RECORD_REAPED},
    {"a zombie at the scan", {.seen = 0, .target = 1}, RECORD_REAPED},
    {"the spared root, pinned and alive", {.seen = 1, .pinned = 1}, RECORD_KEEP},
    {"pinned, not a target, exited meanwhile", {.seen = 1, .pinned = 1, .pinned_exited = 1}, RECORD_REAPED},
    {"alive at the scan, not pinned: ask /proc", {.seen = 1}, RECORD_CHECK},
    {"a nested namespace's pid", {.namespaced = 1, .target = 1, .target_dead = 1}, RECORD_KEEP},
    {"a nested namespace's pid the scan could not see", {.namespaced = 1}, RECORD_KEEP},
};

Test(reaprules, a_record_is_marked_reaped_only_once_its_process_is_dead)
{
    EXPECT_ROWS(record_rows, record_judge, record_name);
}

/* Every combination: a process seen alive is marked reaped only on its own
 * pidfd's word (a target's or a pinned one's). */
Test(reaprules, nothing_seen_alive_is_marked_without_its_pidfd)
{
    for (unsigned bits = 0; bits < (1u << 6); bits++) {
        struct record_facts f = {
            .namespaced = bits & 1,     .seen = (bits >> 1) & 1,   .target = (bits >> 2) & 1,
            .target_dead = (bits >> 3) & 1, .pinned = (bits >> 4) & 1, .pinned_exited = (bits >> 5) & 1,
        };
        enum record_verdict v = record_judge(&f);
        if (f.namespaced)
            cr_assert_eq(v, RECORD_KEEP, "bits %#x", bits);
        if (v == RECORD_REAPED && f.seen)
            cr_assert((f.target && f.target_dead) || (!f.target && f.pinned && f.pinned_exited), "bits %#x", bits);
    }
}

static const char *kill_name(int v)
{
    return v == KILL_NOW ? "now" : v == KILL_LATER ? "later" : "done";
}

struct kill_row {
    const char *what;
    struct kill_facts f;
    enum kill_verdict want;
};

static const struct kill_row kill_rows[] = {
    {"a stopped leaf while no process was created", {.stopped = 1, .table_complete = 1}, KILL_NOW},
    {"a stopped leaf after a process was created (it may be its child)", {.stopped = 1}, KILL_LATER},
    {"a leaf not stopped yet: it could still fork", {.table_complete = 1}, KILL_LATER},
    {"a stopped parent of a child alive", {.stopped = 1, .table_complete = 1, .children_alive = 1}, KILL_LATER},
    {"a stopped parent of a child the plan has not judged", {.stopped = 1, .table_complete = 1, .children_unjudged = 1},
     KILL_LATER},
    {"after the plan: a child that is no target holds nothing back", {.plan_done = 1, .children_unjudged = 2},
     KILL_NOW},
    {"after the plan: leaves first still", {.plan_done = 1, .stopped = 1, .children_alive = 1}, KILL_LATER},
    {"dead or killed already", {.done = 1, .stopped = 1, .table_complete = 1}, KILL_DONE},
};

Test(reaprules, a_target_is_killed_leaves_first_and_early_only_when_frozen)
{
    EXPECT_ROWS(kill_rows, kill_judge, kill_name);
}

/* Every combination: never a parent before its children, and before the
 * plan is complete never one that is not stopped in a complete table. */
Test(reaprules, no_early_kill_without_the_freeze)
{
    for (unsigned bits = 0; bits < (1u << 6); bits++) {
        struct kill_facts f = {
            .done = bits & 1,           .plan_done = (bits >> 1) & 1,     .stopped = (bits >> 2) & 1,
            .table_complete = (bits >> 3) & 1, .children_alive = (bits >> 4) & 1, .children_unjudged = (bits >> 5) & 1,
        };
        if (kill_judge(&f) != KILL_NOW)
            continue;
        cr_assert(!f.done && !f.children_alive, "bits %#x", bits);
        cr_assert(f.plan_done || (f.stopped && f.table_complete && !f.children_unjudged), "bits %#x", bits);
    }
}
