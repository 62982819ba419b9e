/* How every serial Check program ends its main (test_archive, under MPI, has its own). */
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

#endif
