/* Pins the registry's on-disk (in-/dev/shm) layout.  The shim of one build
 * and the reaper of another share these bytes: any change here must come
 * with a CR_REGISTRY_VERSION bump, and this file is where that shows. */
#include <criterion/criterion.h>
#include <stdalign.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "registry.h"
#include "role.h"
#include "unit_support.h"

#define FIELD_SIZE(type, field) sizeof(((type *)0)->field)

#define PIN(type, field, off, size)                                                        \
    do {                                                                                   \
        cr_expect_eq(offsetof(type, field), (size_t)(off), #type "." #field " offset %zu", \
                     offsetof(type, field));                                               \
        cr_expect_eq(FIELD_SIZE(type, field), (size_t)(size), #type "." #field " size %zu", \
                     FIELD_SIZE(type, field));                                             \
    } while (0)

Test(layout, constants)
{
    cr_expect_eq(CR_REGISTRY_VERSION, 3u);
    cr_expect_eq(CR_HEADER_SIZE, 256u);
    cr_expect_eq(CR_ENTRY_SIZE, 256u);
    cr_expect_eq(CR_DIR_SIZE, 512u);
    cr_expect_eq(CR_SESSION_MAX, 64);
    cr_expect_eq(CR_EXE_MAX, 216);
    cr_expect_eq(CR_DIR_PATH_MAX, 464);
    cr_expect_eq(CR_ENTRY_CAPACITY_DEFAULT, 3072u);
    cr_expect_eq(CR_DIR_CAPACITY_DEFAULT, 384u);
    cr_expect_str_eq(CR_REGISTRY_DIR, "/dev/shm");
    cr_expect_str_eq(CR_REGISTRY_PREFIX, "chromereaper-");
}

Test(layout, magic)
{
    static const char want[8] = {'C', 'R', 'R', 'E', 'A', 'P', 'R', '\0'};
    cr_assert_eq(sizeof(CR_REGISTRY_MAGIC), 8u);
    cr_assert_str_eq(CR_REGISTRY_MAGIC, "CRREAPR");
    cr_assert_eq(memcmp(CR_REGISTRY_MAGIC, want, sizeof want), 0);
    cr_assert_eq(FIELD_SIZE(struct cr_registry_header, magic), sizeof(CR_REGISTRY_MAGIC));
}

/* Values stored in the file are part of the layout too. */
Test(layout, stored_enum_values)
{
    cr_expect_eq(CR_SLOT_EMPTY, 0);
    cr_expect_eq(CR_SLOT_RESERVED, 1);
    cr_expect_eq(CR_SLOT_COMMITTED, 2);
    cr_expect_eq(CR_SLOT_REAPED, 3);
    cr_expect_eq(CR_SLOT_WORD(CR_SLOT_COMMITTED, 5), (5u << 2) | 2u);

    cr_expect_eq(CR_SEEN_CONSTRUCTOR, 1);
    cr_expect_eq(CR_SEEN_FORK, 2);
    cr_expect_eq(CR_SEEN_EXEC, 3);
    cr_expect_eq(CR_SEEN_SPAWN, 4);
    cr_expect_eq(CR_SEEN_ROOT, 5);
    cr_expect_eq(CR_SEEN_EXEC_FAILED, 6);
    cr_expect_eq(CR_SEEN_MAX, 6);

    cr_expect_eq(CR_ENTRY_PIDNS, 0x1u);
    cr_expect_eq(CR_DIR_MKDTEMP, 1);
    cr_expect_eq(CR_DIR_USER_DATA_DIR, 2);
    cr_expect_eq(CR_DIR_ORIGIN_MAX, 2);
    cr_expect_eq(CR_DIR_ABSENT_AT_LAUNCH, 0x1u);

    cr_expect_eq(CR_ROLE_UNKNOWN, 0);
    cr_expect_eq(CR_ROLE_OTHER, 1);
    cr_expect_eq(CR_ROLE_DRIVER, 2);
    cr_expect_eq(CR_ROLE_BROWSER, 3);
    cr_expect_eq(CR_ROLE_ZYGOTE, 4);
    cr_expect_eq(CR_ROLE_RENDERER, 5);
    cr_expect_eq(CR_ROLE_GPU, 6);
    cr_expect_eq(CR_ROLE_UTILITY, 7);
    cr_expect_eq(CR_ROLE_CRASHPAD, 8);
    cr_expect_eq(CR_ROLE_MAX, 8);
}

Test(layout, header)
{
    typedef struct cr_registry_header H;
    cr_assert_eq(sizeof(H), 256u);
    cr_expect_eq(alignof(H), 8u);
    PIN(H, magic, 0, 8);
    PIN(H, version, 8, 4);
    PIN(H, header_size, 12, 4);
    PIN(H, entry_size, 16, 4);
    PIN(H, entry_capacity, 20, 4);
    PIN(H, dir_size, 24, 4);
    PIN(H, dir_capacity, 28, 4);
    PIN(H, owner_uid, 32, 4);
    PIN(H, root_pid, 36, 4);
    PIN(H, root_start_time, 40, 8);
    PIN(H, created_unix, 48, 8);
    PIN(H, entry_next, 56, 8);
    PIN(H, dir_next, 64, 8);
    PIN(H, entry_overflow, 72, 4);
    PIN(H, dir_overflow, 76, 4);
    PIN(H, rounds_reaped, 80, 4);
    PIN(H, processes_reaped, 84, 4);
    PIN(H, dirs_removed, 88, 4);
    PIN(H, full_warned, 92, 4);
    PIN(H, session, 96, 64);
    PIN(H, pidns, 160, 8);
    PIN(H, reserved, 168, 88);
}

Test(layout, entry)
{
    typedef struct cr_entry E;
    cr_assert_eq(sizeof(E), 256u);
    cr_expect_eq(alignof(E), 8u);
    PIN(E, state, 0, 4);
    PIN(E, pid, 4, 4);
    PIN(E, ppid, 8, 4);
    PIN(E, flags, 12, 4);
    PIN(E, start_time, 16, 8);
    PIN(E, seq, 24, 8);
    PIN(E, seen_by, 32, 4);
    PIN(E, role, 36, 4);
    PIN(E, exe, 40, 216);
}

Test(layout, dir)
{
    typedef struct cr_dir D;
    cr_assert_eq(sizeof(D), 512u);
    cr_expect_eq(alignof(D), 8u);
    PIN(D, state, 0, 4);
    PIN(D, pid, 4, 4);
    PIN(D, origin, 8, 4);
    PIN(D, flags, 12, 4);
    PIN(D, dev, 16, 8);
    PIN(D, ino, 24, 8);
    PIN(D, start_time, 32, 8);
    PIN(D, seq, 40, 8);
    PIN(D, path, 48, 464);
}

Test(layout, registry_size_for)
{
    cr_expect_eq(registry_size_for(0, 0), (size_t)256);
    cr_expect_eq(registry_size_for(1, 0), (size_t)(256 + 256));
    cr_expect_eq(registry_size_for(0, 1), (size_t)(256 + 512));
    cr_expect_eq(registry_size_for(4, 2), (size_t)(256 + 4 * 256 + 2 * 512));
    /* issue 12's B8: a session takes at most 1 MiB of /dev/shm (960.25 KiB) */
    cr_expect_eq(registry_size_for(CR_ENTRY_CAPACITY_DEFAULT, CR_DIR_CAPACITY_DEFAULT),
                 (size_t)983296);
    cr_expect_leq(registry_size_for(CR_ENTRY_CAPACITY_DEFAULT, CR_DIR_CAPACITY_DEFAULT),
                  (size_t)1 << 20);
    cr_expect_eq(registry_size_for(81920, 16), (size_t)20979968);
    cr_expect_eq(registry_size_for(1u << 24, 1u << 16), (size_t)4328521984ull);
    /* no 32-bit overflow in the arithmetic */
    cr_expect_eq(registry_size_for(UINT32_MAX, UINT32_MAX), (size_t)3298534882816ull);
}

TestSuite(layout_file, .fini = ut_cleanup);

/* The same offsets, as registry_create writes them into a real object. */
Test(layout_file, created_object_bytes)
{
    struct cr_registry reg;
    char session[CR_SESSION_MAX];
    ut_registry_create(&reg, session, 3, 2);
    const unsigned char *b = (const unsigned char *)reg.hdr;
    uint32_t u32;
    int32_t i32;

    cr_assert_eq(reg.map_size, registry_size_for(3, 2));
    cr_assert_eq(memcmp(b, "CRREAPR", 8), 0);
    memcpy(&u32, b + 8, 4);
    cr_expect_eq(u32, 3u, "version");
    memcpy(&u32, b + 12, 4);
    cr_expect_eq(u32, 256u, "header_size");
    memcpy(&u32, b + 16, 4);
    cr_expect_eq(u32, 256u, "entry_size");
    memcpy(&u32, b + 20, 4);
    cr_expect_eq(u32, 3u, "entry_capacity");
    memcpy(&u32, b + 24, 4);
    cr_expect_eq(u32, 512u, "dir_size");
    memcpy(&u32, b + 28, 4);
    cr_expect_eq(u32, 2u, "dir_capacity");
    memcpy(&u32, b + 32, 4);
    cr_expect_eq(u32, (uint32_t)getuid(), "owner_uid");
    memcpy(&i32, b + 36, 4);
    cr_expect_eq(i32, 0, "root_pid");
    cr_expect_str_eq((const char *)b + 96, session);

    cr_expect_eq((const char *)reg.entries - (const char *)b, 256);
    cr_expect_eq((const char *)reg.dirs - (const char *)b, 256 + 3 * 256);

    struct cr_entry e;
    ut_entry_make(&e, 7, 1);
    cr_assert_eq(registry_append(&reg, &e), 0);
    cr_assert_eq(registry_append(&reg, &e), 1);
    uint64_t u64;
    memcpy(&u64, b + 56, 8);
    cr_expect_eq(u64, 2u, "entry_next");
    /* slot 1 starts at 256 + 256: state word (sequence 1, committed), then the pid */
    memcpy(&u32, b + 256 + 256, 4);
    cr_expect_eq(u32, CR_SLOT_WORD(CR_SLOT_COMMITTED, 1));
    memcpy(&i32, b + 256 + 256 + 4, 4);
    cr_expect_eq(i32, 7);

    struct cr_dir d;
    memset(&d, 0, sizeof d);
    d.pid = 9;
    d.origin = CR_DIR_MKDTEMP;
    memcpy(d.path, "/tmp/x", 7);
    cr_assert_eq(registry_append_dir(&reg, &d), 0);
    memcpy(&u64, b + 64, 8);
    cr_expect_eq(u64, 1u, "dir_next");
    memcpy(&u32, b + 256 + 3 * 256, 4);
    cr_expect_eq(u32, CR_SLOT_WORD(CR_SLOT_COMMITTED, 0));
    cr_expect_str_eq((const char *)b + 256 + 3 * 256 + 48, "/tmp/x");

    registry_close(&reg);
}
