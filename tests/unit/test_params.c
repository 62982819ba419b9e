#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tailsweep/params.h"
#include "check_main.h"

static const ts_param_def opt = {"optimizer", TS_ENUM, .def.e = "sign",
                                 .choices = "gd|sign|adam", .unit = "", .doc = "x"};

START_TEST(choice_index_and_name_round_trip)
{
    char buf[64];
    ck_assert_int_eq(ts_param_choice_index(&opt, "gd"), 0);
    ck_assert_int_eq(ts_param_choice_index(&opt, "adam"), 2);
    ck_assert_int_eq(ts_param_choice_index(&opt, "ada"), -1);
    ck_assert_int_eq(ts_param_choice_index(&opt, "adamw"), -1);
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(ts_param_choice_index(&opt, ts_param_choice_name(&opt, k, buf)), k);
    ck_assert_int_eq(ts_param_default(&opt).e, 1);
}
END_TEST

static int in_range(const char *range, double x)
{
    ts_param_def def = {"x", TS_REAL, .range = range, .unit = "", .doc = ""};
    ts_error err;
    return ts_param_check_range(&def, x, &err) == TS_OK;
}

START_TEST(range_respects_open_and_closed_bounds)
{
    ck_assert(in_range("(0, 2]", 2.0));
    ck_assert(!in_range("(0, 2]", 0.0));
    ck_assert(in_range("(0, 2]", 1e-300));
    ck_assert(!in_range("(0, 2]", nextafter(2.0, 3.0)));
    ck_assert(in_range("[1, inf)", 1.0));
    ck_assert(!in_range("[1, inf)", 0.999));
    ck_assert(in_range("[1, inf)", 1e308));
    ck_assert(!in_range("[1, inf)", INFINITY));
    ck_assert(in_range("(-inf, inf)", -1e300));
    ck_assert(!in_range("[-1, 1]", NAN));
    ck_assert(in_range(NULL, -5));
}
END_TEST

START_TEST(range_error_names_the_interval)
{
    ts_param_def def = {"levy_alpha", TS_REAL, .range = "(0, 2]", .unit = "", .doc = ""};
    ts_error err;
    ck_assert_int_eq(ts_param_check_range(&def, 3, &err), TS_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "(0, 2]"));
}
END_TEST

START_TEST(real_formatting_is_exact)
{
    /* Canonical text and resume depend on printing reals so that they parse back exactly. */
    ts_param_def def = {"x", TS_REAL, .unit = "", .doc = ""};
    unsigned seed = 12345;
    for (int k = 0; k < 10000; k++) {
        seed = seed * 1103515245u + 12345u;
        double x = ldexp((double)(seed % 1000003) / 1000003.0, (int)(seed % 200) - 100);
        ts_value v = {.type = TS_REAL, .r = x};
        char buf[64];
        ts_value_format(&def, &v, buf, sizeof buf);
        ck_assert(strtod(buf, NULL) == x);
    }
}
END_TEST

START_TEST(list_and_record_format)
{
    static const double l[] = {0.5, 0.1};
    ts_param_def def = {"eps", TS_REAL_LIST, .def.list = l, .def.n = 2, .unit = "", .doc = ""};
    ts_value v = ts_param_default(&def);
    char buf[128];
    ts_value_format(&def, &v, buf, sizeof buf);
    ck_assert_str_eq(buf, "[0.5, 0.1]");
    ts_param_def rec = {"record", TS_RECORD, .def.rec = {TS_RECORD_LOG, 50}, .unit = "", .doc = ""};
    v = ts_param_default(&rec);
    ts_value_format(&rec, &v, buf, sizeof buf);
    ck_assert_str_eq(buf, "{log: 50}");
}
END_TEST

TS_TEST_MAIN("params",
             choice_index_and_name_round_trip,
             range_respects_open_and_closed_bounds,
             range_error_names_the_interval,
             real_formatting_is_exact,
             list_and_record_format)
