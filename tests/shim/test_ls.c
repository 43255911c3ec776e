/* `chromereaper ls` of a session: each process with its role, a utility
 * with the service it runs ("utility:network"), from its live command line
 * (the registry has no field for it). */
#include "shim_test.h"

static char *ls_session(const char *mode)
{
    char *argv[] = {(char *)ts_build("chromereaper"), "ls", "--session", shx.id, (char *)mode, NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    cr_assert_eq(rc, 0, "ls %s: exit %d: %s", mode, rc, out);
    return out;
}

Test(ls_roles, utility_sub_type_from_the_live_command_line, .init = shx_init, .fini = shx_fini)
{
    shx_session();
    shx_tmpdir();
    const char *chromium = shx_tmp("chromium");
    cr_assert_eq(link(ts_build("fixtures/fx_path_fork"), chromium), 0); /* a browser by its file name */
    char out_arg[600];
    snprintf(out_arg, sizeof out_arg, "--fx-out=%s", shx_tmp("out"));
    char *network[] = {(char *)chromium, "--type=utility",
                       "--utility-sub-type=network.mojom.NetworkService", "--fx-child", out_arg,
                       "--fx-tag=network", NULL};
    char *storage[] = {(char *)chromium, "--type=utility",
                       "--utility-sub-type=storage.mojom.StorageService", "--fx-child", out_arg,
                       "--fx-tag=storage", NULL};
    char *renderer[] = {(char *)chromium, "--type=renderer", "--fx-child", out_arg,
                        "--fx-tag=renderer", NULL};
    pid_t net = shx_spawn(network, shx.id, NULL);
    pid_t sto = shx_spawn(storage, shx.id, NULL);
    pid_t ren = shx_spawn(renderer, shx.id, NULL);
    /* each reports once it runs */
    for (int i = 0; i < 1500; i++) {
        char *t = ts_slurp(shx_tmp("out"));
        int lines = 0;
        for (char *p = t; p && *p; p++)
            lines += *p == '\n';
        free(t);
        if (lines >= 3)
            break;
        usleep(20 * 1000);
    }

    char *text = ls_session("--tree");
    char buf[1024];
    cr_assert_not_null(ts_tree_row(text, net, buf, sizeof buf), "%s", text);
    cr_expect_not_null(strstr(buf, " utility:network "), "%s", buf);
    cr_assert_not_null(ts_tree_row(text, sto, buf, sizeof buf), "%s", text);
    cr_expect_not_null(strstr(buf, " utility:storage "), "%s", buf);
    cr_assert_not_null(ts_tree_row(text, ren, buf, sizeof buf), "%s", text);
    cr_expect_not_null(strstr(buf, " renderer "), "%s", buf);
    free(text);

    char *json = ls_session("--json");
    char needle[160];
    snprintf(needle, sizeof needle,
             "{\"pid\":%d,\"ppid\":%d,\"start_time\":", (int)net, (int)getpid());
    const char *row = strstr(json, needle);
    cr_assert_not_null(row, "%s", json);
    cr_expect_not_null(strstr(row, "\"role\":\"utility\",\"utility_sub_type\":\"network\","), "%s", row);
    snprintf(needle, sizeof needle, "{\"pid\":%d,", (int)ren);
    row = strstr(json, needle);
    cr_assert_not_null(row, "%s", json);
    cr_expect_not_null(strstr(row, "\"role\":\"renderer\",\"utility_sub_type\":\"\","), "%s", row);
    free(json);
}
