/* How every serial Check program ends its main (test_archive, under MPI, has its own): with
 * ts_test_run_suite for several cases, or all of it with TS_TEST_MAIN for one. */
#ifndef TS_TEST_CHECK_MAIN_H
#define TS_TEST_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

/* Runs the suite (a process per test unless CK_FORK=no) and makes its failures the exit status. */
static inline int ts_test_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* main() of a serial Check program: one suite and one case of these tests, run (a process per
 * test unless CK_FORK=no), failures as the exit status. */
#define TS_TEST_MAIN(suite_name, ...)                                                        \
    int main(void)                                                                           \
    {                                                                                        \
        const TTest *tests[] = {__VA_ARGS__};                                                \
        Suite *s = suite_create(suite_name);                                                 \
        TCase *tc = tcase_create(suite_name);                                                \
        tcase_set_timeout(tc, 600);                                                          \
        for (size_t k = 0; k < sizeof tests / sizeof tests[0]; k++)                          \
            tcase_add_test(tc, tests[k]);                                                    \
        suite_add_tcase(s, tc);                                                              \
        SRunner *sr = srunner_create(s);                                                     \
        srunner_run_all(sr, CK_NORMAL);                                                      \
        int failed = srunner_ntests_failed(sr);                                              \
        srunner_free(sr);                                                                    \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                                         \
    }

#endif
