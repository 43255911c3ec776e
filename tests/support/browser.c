#include "browser.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"
#include "registry.h"
#include "role.h"
#include "safestr.h"
#include "support.h"

void tb_chrome_dirs(struct tb_dirset *s, const char *tmp)
{
    static const char *const patterns[] = {"%s/*org.chromium.Chromium*", "%s/.org.chromium.Chromium*"};
    s->n = 0;
    for (int p = 0; p < 2; p++) {
        glob_t g;
        char pattern[600];
        snprintf(pattern, sizeof pattern, patterns[p], tmp);
        if (glob(pattern, 0, NULL, &g) == 0)
            for (size_t i = 0; i < g.gl_pathc && s->n < TB_MAX_DIRS; i++)
                s->v[s->n++] = strdup(g.gl_pathv[i]);
        globfree(&g);
    }
}

int tb_dirset_has(const struct tb_dirset *s, const char *path)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->v[i], path) == 0)
            return 1;
    return 0;
}

int tb_dirset_new(const struct tb_dirset *before, const struct tb_dirset *now, const char *label)
{
    int n = 0;
    for (int i = 0; i < now->n; i++)
        if (!tb_dirset_has(before, now->v[i])) {
            n++;
            if (label)
                cr_log_warn("%s: %s remains", label, now->v[i]);
        }
    return n;
}

void tb_dirset_free(struct tb_dirset *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->v[i]);
    s->n = 0;
}

int tb_pids_with_env(const char *entry, pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL && n < max) {
        uint64_t pid;
        if (cr_parse_u64(de->d_name, &pid) == 0 && (pid_t)pid != getpid() && ts_alive((pid_t)pid) &&
            proc_environ_has((pid_t)pid, entry) == 1) {
            ts_remember((pid_t)pid);
            out[n++] = (pid_t)pid;
        }
    }
    if (d)
        closedir(d);
    return n;
}

static int in_list(pid_t pid, const pid_t *v, int n)
{
    for (int i = 0; i < n; i++)
        if (v[i] == pid)
            return 1;
    return 0;
}

int tb_count_browser_procs(const struct tb_bystander *b)
{
    pid_t pids[1024], theirs[1024];
    int n = ts_descendants(getpid(), pids, 1024), count = 0, nt = 0;
    if (b && b->pid > 0) {
        /* its zygotes and renderers rewrite their environ: take its tree,
         * and its crashpad handlers (adopted by us) by their tag */
        nt = ts_descendants(b->pid, theirs, 1000);
        theirs[nt++] = b->pid;
        nt += tb_pids_with_env(b->tag, theirs + nt, 1024 - nt);
    }
    for (int i = 0; i < n; i++) {
        char comm[64];
        size_t len;
        if (in_list(pids[i], theirs, nt) || proc_file_read(pids[i], "comm", comm, sizeof comm, &len) < 0)
            continue;
        comm[strcspn(comm, "\n")] = '\0';
        count += strcmp(comm, "chromium") == 0 || strcmp(comm, "chromedriver") == 0 ||
                 strcmp(comm, "chrome_crashpad") == 0;
    }
    return count;
}

void tb_bystander_start(struct tb_bystander *b, const char *logdir)
{
    struct tb_dirset first;
    memset(b, 0, sizeof *b);
    /* the bystander's orphans (crashpad) come back to us, not init */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    tb_chrome_dirs(&first, "/tmp");
    ts_tmpdir(b->udd, sizeof b->udd, "bystander");
    char udd_arg[300];
    snprintf(udd_arg, sizeof udd_arg, "--user-data-dir=%s", b->udd);
    snprintf(b->tag, sizeof b->tag, "CRTEST_BYSTANDER=%d", (int)getpid());
    char *argv[] = {"/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--remote-debugging-port=0", udd_arg,
                    "about:blank", NULL};
    putenv(b->tag);
    char log[300];
    snprintf(log, sizeof log, "%s/bystander.log", logdir);
    b->pid = ts_spawn(argv, NULL, log);
    unsetenv("CRTEST_BYSTANDER");
    char port[300];
    snprintf(port, sizeof port, "%s/DevToolsActivePort", b->udd);
    cr_assert_eq(ts_wait_file(port, 60), 0, "the bystander chromium did not start");
    struct tb_dirset now;
    tb_chrome_dirs(&now, "/tmp");
    for (int i = 0; i < now.n; i++)
        if (!tb_dirset_has(&first, now.v[i]))
            b->dirs.v[b->dirs.n++] = strdup(now.v[i]);
    tb_dirset_free(&now);
    tb_dirset_free(&first);
}

int tb_bystander_alive(const struct tb_bystander *b)
{
    return b->pid > 0 && ts_alive(b->pid);
}

void tb_bystander_stop(struct tb_bystander *b)
{
    if (b->pid <= 0)
        return;
    pid_t pids[256];
    int n = tb_pids_with_env(b->tag, pids, 256);
    for (int i = 0; i < n; i++)
        ts_kill(pids[i], SIGKILL);
    ts_kill(b->pid, SIGKILL);
    ts_waitpid(b->pid, 10);
    for (int i = 0; i < n; i++)
        ts_wait_gone(pids[i], 5);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    for (int i = 0; i < b->dirs.n; i++)
        ts_rm_rf(b->dirs.v[i]);
    tb_dirset_free(&b->dirs);
    ts_rm_rf(b->udd);
    b->pid = -1;
}

/* Pulls `"key":<int>` values out of JSON text, in order. */
static int json_ints(const char *text, const char *key, long *out, int max)
{
    char needle[64];
    snprintf(needle, sizeof needle, "\"%s\":", key);
    int n = 0;
    for (const char *p = text; n < max && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        out[n++] = strtol(p + strlen(needle), NULL, 10);
    return n;
}

int tb_session_of_root(pid_t root, char *id, size_t len)
{
    char *argv[] = {(char *)ts_build("chromereaper"), "ls", "--json", NULL};
    char *out = NULL;
    ts_run(argv, &out);
    int rc = -1;
    char needle[64];
    snprintf(needle, sizeof needle, "\"root_pid\":%d,", (int)root);
    char *hit = out ? strstr(out, needle) : NULL;
    if (hit) {
        /* {"session":"<id>","root_pid":N,... : the id is just before */
        char *start = hit;
        while (start > out && strncmp(start, "{\"session\":\"", 12) != 0)
            start--;
        start += 12;
        char *end = strchr(start, '"');
        if (end && (size_t)(end - start) < len) {
            memcpy(id, start, (size_t)(end - start));
            id[end - start] = '\0';
            rc = 0;
        }
    }
    free(out);
    return rc;
}

int tb_session_live_pids(const char *id, pid_t *out, int max)
{
    char *argv[] = {(char *)ts_build("chromereaper"), "ls", "--session", (char *)id, "--json", NULL};
    char *text = NULL;
    ts_run(argv, &text);
    long pids[1024];
    int n = json_ints(text, "pid", pids, 1024), k = 0;
    for (int i = 0; i < n && k < max; i++)
        if (ts_alive((pid_t)pids[i])) {
            ts_remember((pid_t)pids[i]);
            out[k++] = (pid_t)pids[i];
        }
    free(text);
    return k;
}

int tb_maps_registry_writable(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[1024];
    int writable = 0;
    while (fgets(line, sizeof line, f)) {
        char perms[8] = "";
        if (strstr(line, CR_REGISTRY_DIR "/" CR_REGISTRY_PREFIX) && sscanf(line, "%*s %7s", perms) == 1 &&
            perms[1] == 'w')
            writable = 1;
    }
    fclose(f);
    return writable;
}

static int runs_zygote(pid_t pid)
{
    char cmd[8192], exe[4096];
    size_t len;
    if (proc_exe_read(pid, exe, sizeof exe) < 0 || proc_file_read(pid, "cmdline", cmd, sizeof cmd, &len) < 0)
        return 0;
    return role_classify_cmdline(exe, cmd, len) == CR_ROLE_ZYGOTE;
}

int tb_zygote_child(pid_t pid)
{
    struct proc_stat st;
    return proc_stat_read(pid, &st) == 0 && !runs_zygote(pid) && runs_zygote(st.ppid);
}
