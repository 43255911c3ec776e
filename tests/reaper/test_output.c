/* What the reaper prints is read by people and scripts: a path or command
 * line a session process chose (any of them can write any record) cannot
 * forge a line of the text report or of `ls`, and every --json output is
 * one document a real JSON parser accepts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry.h"
#include "role.h"
#include "support.h"

#define FORGED "  dir removed  /home/victim/thesis (mkdtemp)"

static char session[64], other[64], outdir[256];
static struct cr_registry reg, reg2;

static void setup(void)
{
    ts_session_create(session, sizeof session, &reg);
    ts_session_create(other, sizeof other, &reg2);
    ts_tmpdir(outdir, sizeof outdir, "output");
}

static void teardown(void)
{
    registry_close(&reg);
    registry_close(&reg2);
    ts_session_remove(session);
    ts_session_remove(other);
    ts_rm_rf(outdir);
}

TestSuite(output, .init = setup, .fini = teardown, .timeout = 60);

/* A directory record and a process record whose strings hold a newline,
 * an escape sequence and bytes that are not UTF-8. */
static void hostile_records(struct cr_registry *r)
{
    struct cr_dir d;
    memset(&d, 0, sizeof d);
    d.pid = getpid();
    d.origin = CR_DIR_MKDTEMP;
    snprintf(d.path, sizeof d.path, "%s/x\n" FORGED "\n\033[2J\xff\xfe", outdir);
    cr_assert_geq(registry_append_dir(r, &d), 0);
    struct cr_entry e;
    memset(&e, 0, sizeof e);
    e.pid = getpid();
    e.ppid = getppid();
    e.seen_by = CR_SEEN_CONSTRUCTOR;
    e.role = CR_ROLE_OTHER;
    snprintf(e.exe, sizeof e.exe, "/bin/x\n" FORGED "\r\x01\xc3");
    cr_assert_geq(registry_append(r, &e), 0);
}

static char *cli(char **argv, int *rc)
{
    char *out = NULL;
    *rc = ts_run(argv, &out);
    return out;
}

/* No output line is the forged one, and the newline shows as "\n". */
static void expect_no_forged_line(const char *out, const char *what)
{
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        cr_expect_neq(strncmp(l, FORGED, strlen(FORGED)), 0, "%s printed a forged line:\n%s", what, out);
    cr_expect(strstr(out, "\\n" FORGED), "%s does not show the newline escaped:\n%s", what, out);
    cr_expect_null(strchr(out, '\033'), "%s printed an escape character", what);
}

Test(output, text_escapes_control_characters_in_paths_and_command_lines)
{
    hostile_records(&reg);
    int rc;
    char *reap[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--dry-run", NULL};
    char *out = cli(reap, &rc);
    expect_no_forged_line(out, "reap");
    free(out);
    char *ls[] = {(char *)ts_build("chromereaper"), "ls", "--session", session, NULL};
    out = cli(ls, &rc);
    cr_expect_eq(rc, 0, "%s", out);
    expect_no_forged_line(out, "ls");
    free(out);
    char *tree[] = {(char *)ts_build("chromereaper"), "ls", "--session", session, "--tree", NULL};
    out = cli(tree, &rc);
    expect_no_forged_line(out, "ls --tree");
    free(out);
}

/* `python3 -m json.tool` (Debian's python, a strict parser) accepts the
 * whole output as one document. */
static void expect_one_document(char **argv, const char *what)
{
    char path[300], cmd[1200];
    snprintf(path, sizeof path, "%s/out.json", outdir);
    int n = snprintf(cmd, sizeof cmd, "exec");
    for (char **a = argv; *a; a++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " '%s'", *a);
    snprintf(cmd + n, sizeof cmd - (size_t)n, " > '%s' 2>/dev/null", path);
    char *sh[] = {"/bin/sh", "-c", cmd, NULL};
    ts_run(sh, NULL);
    char *parse[] = {"/usr/bin/python3", "-m", "json.tool", path, NULL};
    char *out = NULL;
    int rc = ts_run(parse, &out);
    char *doc = ts_slurp(path);
    cr_expect_eq(rc, 0, "%s: not one JSON document: %s\n%s", what, out, doc);
    free(doc);
    free(out);
}

Test(output, every_json_output_is_one_valid_document)
{
    hostile_records(&reg);
    hostile_records(&reg2);
    const char *cr = ts_build("chromereaper");
    char *reap_one[] = {(char *)cr, "reap", "--session", session, "--dry-run", "--json", NULL};
    expect_one_document(reap_one, "reap --session --json");
    char *reap_all[] = {(char *)cr, "reap", "--all", "--dry-run", "--json", NULL};
    expect_one_document(reap_all, "reap --all --json");
    char *reap_stale[] = {(char *)cr, "reap", "--stale", "--dry-run", "--json", NULL};
    expect_one_document(reap_stale, "reap --stale --json");
    char *reap_missing[] = {(char *)cr, "reap", "--session", "crtest-no-such-session", "--json", NULL};
    expect_one_document(reap_missing, "reap --json of a missing session");
    char *ls_one[] = {(char *)cr, "ls", "--session", session, "--json", NULL};
    expect_one_document(ls_one, "ls --session --json");
    char *ls_all[] = {(char *)cr, "ls", "--json", NULL};
    expect_one_document(ls_all, "ls --json");
}
