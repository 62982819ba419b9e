/* placeholder */
typedef int ts_placeholder_cmd_run;
